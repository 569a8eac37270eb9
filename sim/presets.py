"""Named sets of market parameters that replace one assumption with another.

    from sim import Market
    from sim.presets import EVIDENCE_WOM
    Market(seed=1, **EVIDENCE_WOM)

In a scenario file, write the same values under `market:` (see scenarios/wom-evidence.yaml).

EVIDENCE_WOM replaces the project's folklore premise ("every unhappy customer tells 10-15
peers", `negative_talk_probability` 1, reach uniform on 10..15) with the better data
summarised in mission-anchors.md section 3:

- Wharton/Verde Retail Dissatisfaction Study 2006: only 31% of shoppers with a problem told
  anyone; those who told, told about 4 people on average (8% of all told one person, 8% two,
  6% six or more).
- East, Hammond & Wright 2007: positive word of mouth is about three times as frequent as
  negative. With a tenth of the folklore's negative talk, the default referrals give only
  about 1.8 positive messages per negative one, so the preset lets each referral reach 5
  contacts instead of 3 (`referral_reach`, a modelling choice in the defaults), which gives
  about 3:1. `referral_probability` (calibrated to Kumar et al. 2007) is kept. The expected
  Bass referral signal does not depend on the reach (it is normalised by it); a wider reach
  spreads more positive attitude.

The engine draws reach uniformly on `negative_reach_min..negative_reach_max`, so the heavy
tail of the survey cannot be expressed. The closest honest approximation keeps the mean:
uniform on 1..7 has mean 4, puts 2/7 of tellers at 6 or more (8.9% of the dissatisfied
against the survey's 6%) and 1/7 at exactly one person (4.4% against 8%). The mean is what
sets the volume of negative talk, so it is the moment the preset matches.
`grapevine check-model` measures all three facts under this preset; the 3:1 ratio is a
calibration target of the preset, not an independent test.
"""

from __future__ import annotations

EVIDENCE_WOM: dict = {
    "negative_talk_probability": 0.31,  # Wharton/Verde 2006: 31% of the dissatisfied tell anyone
    "negative_reach_min": 1,            # ... about 4 people on average: uniform 1..7 has mean 4
    "negative_reach_max": 7,
    "referral_reach": 5,                # East et al. 2007: positive talk ~3x negative (calibrated)
}

PRESETS: dict[str, dict] = {"evidence_wom": EVIDENCE_WOM}
