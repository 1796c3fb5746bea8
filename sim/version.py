"""The version of sco-sim, in one place (the package, the manifests and the CLI read it here)."""

__version__ = "0.1.0"
