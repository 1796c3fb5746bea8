"""Print the data-derived inputs written into the shipped scenarios.

Usage: python scripts/derive_scenario_inputs.py YEAR [DATA_DIR]

Reads the extracts in ../shared/data/sco (or DATA_DIR) and prints, for each
state, the COW CINC capability, V-Dem polyarchy and the alignment with Russia
and China derived from UN General Assembly ideal points:

    alignment(i, pole) = max(0, 1 - |ideal_i - ideal_pole| / 3)

(3 ideal-point units is roughly the distance between the United States and
the SCO members in the 1990s, so 0 means "as far as the US").
"""

import sys
from pathlib import Path

import pandas as pd

STATES = [
    "CHN",
    "RUS",
    "KAZ",
    "KGZ",
    "TJK",
    "UZB",
    "IND",
    "PAK",
    "IRN",
    "BLR",
    "MNG",
    "AFG",
    "TUR",
    "LKA",
    "AZE",
    "ARM",
    "KHM",
    "NPL",
]
SCALE = 3.0


def main() -> None:
    year = int(sys.argv[1])
    data = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[2] / "shared/data/sco"
    nmc = pd.read_csv(data / "nmc_v7_abridged_sco_1990_2022.csv")
    unga = pd.read_csv(data / "unga_idealpoints_BSV_July2025_sco.csv")
    vdem = pd.read_csv(data / "democracy_isard_cw_democracy_sco_1990_2025.csv")
    cinc = nmc[nmc.year == year].set_index("iso3").cinc
    ideal = unga[unga.year == year].set_index("iso3c").idealpointall
    poly = vdem[vdem.year == year].set_index("iso3").v2x_polyarchy
    for s in STATES:
        al = {p: max(0.0, 1 - abs(ideal[s] - ideal[p]) / SCALE) for p in ("RUS", "CHN")}
        print(
            f"{s}: cinc={cinc[s]:.5f} polyarchy={poly[s]:.3f} "
            f"alignment RUS={al['RUS']:.2f} CHN={al['CHN']:.2f}"
        )


if __name__ == "__main__":
    main()
