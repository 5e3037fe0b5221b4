"""A demographic history for five gnomAD-style populations, so the simulated cohort's data behaves like real data.

An out-of-Africa model: an African population, one bottlenecked Eurasian founder population that
splits into East Asians and West Eurasians, which split again into South Asians and non-Finnish
Europeans, and Finns who branch off Europeans recently through a founder bottleneck. Recent
exponential growth gives the excess of rare variants seen in large sequencing studies, and
continuing migration keeps populations related. The numbers are round values of the magnitude
published for such models (sizes in individuals, times in generations); they are chosen here, not
taken from any model catalogue, and only need to give a realistic shape of data.
"""

from __future__ import annotations

from typing import Any

import msprime

# gnomAD population codes: non-Finnish European, Finnish, African/African-American, South Asian, East Asian.
POPULATIONS: tuple[str, ...] = ("NFE", "FIN", "AFR", "SAS", "EAS")

MUTATION_RATE = 1.29e-8  # per base per generation
RECOMBINATION_RATE = 1.2e-8  # per base per generation, the genome-wide average

# Present size, growth rate over the last RECENT generations, growth rate before (positive = smaller
# in the past). The recent explosive growth is what gives large samples their many singletons.
RECENT = 200
_EXTANT = {
    "NFE": (340_000, 0.016, 0.0038),  # ~14,000 RECENT generations ago
    "FIN": (30_000, 0.03, 0.03),  # ~1,500 at its split from NFE: the Finnish founder bottleneck
    "AFR": (290_000, 0.015, 0.0),
    "SAS": (220_000, 0.014, 0.0040),
    "EAS": (280_000, 0.014, 0.0048),
}
_ANCESTRAL = {"WEA": 2_000, "OOA": 1_900, "ANC": 7_300}  # West Eurasian, out-of-Africa, ancestral
_MIGRATION = {
    ("NFE", "FIN"): 1e-4,
    ("NFE", "SAS"): 5e-5,
    ("NFE", "EAS"): 3e-5,
    ("SAS", "EAS"): 5e-5,
    ("NFE", "AFR"): 2.5e-5,
    ("SAS", "AFR"): 1e-5,
    ("EAS", "AFR"): 8e-6,
}
FIN_SPLIT, SAS_SPLIT, EAS_SPLIT, AFRICA_SPLIT = 100, 600, 900, 2_000


def human_demography(*, size_scale: float = 1.0) -> Any:
    """The msprime `Demography`; `size_scale` shrinks every population for chrX (0.75) or chrY.

    chrX has three copies per two people and chrY (simulated haploid) one per man, so their
    coalescent runs on proportionally smaller populations; growth rates and times stay the same.
    """
    demography = msprime.Demography()
    for name, (size, recent, _) in _EXTANT.items():
        # NFE is also FIN's ancestor; it must be active from the present, not only after the split.
        active = True if name == "NFE" else None
        demography.add_population(
            name=name, initial_size=size * size_scale, growth_rate=recent, initially_active=active
        )
    for name, size in _ANCESTRAL.items():
        demography.add_population(name=name, initial_size=size * size_scale)
    for (a, b), rate in _MIGRATION.items():
        demography.set_symmetric_migration_rate([a, b], rate)
    for name, (_, recent, older) in _EXTANT.items():
        if older != recent:
            demography.add_population_parameters_change(time=RECENT, growth_rate=older, population=name)
    demography.add_population_split(time=FIN_SPLIT, derived=["FIN"], ancestral="NFE")
    demography.add_population_split(time=SAS_SPLIT, derived=["NFE", "SAS"], ancestral="WEA")
    demography.add_population_split(time=EAS_SPLIT, derived=["WEA", "EAS"], ancestral="OOA")
    # Migration into a population before it exists is an error, so this one starts at its split.
    demography.add_symmetric_migration_rate_change(time=EAS_SPLIT, populations=["AFR", "OOA"], rate=1.5e-4)
    demography.add_population_split(time=AFRICA_SPLIT, derived=["AFR", "OOA"], ancestral="ANC")
    demography.sort_events()
    return demography
