"""resolwe-prefect: Resolwe's dataflow model on Django + DRF, executed by Prefect 3."""

__version__ = "0.1.0"
