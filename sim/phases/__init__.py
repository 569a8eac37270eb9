"""The month's phases, one module each, run in this order by `Market.step`."""

from . import accounting, acquisition, churn, complaints, experience, word_of_mouth

MONTH = (experience, complaints, word_of_mouth, churn, acquisition, accounting)

__all__ = ["MONTH", "experience", "complaints", "word_of_mouth", "churn", "acquisition", "accounting"]
