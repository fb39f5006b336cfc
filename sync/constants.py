"""Constants the phone and the server share that belong to no one module. The phone gets them
from pwa/js/constants.js, generated from Python by `python -m server.phone_constants`."""

CLOCK_TOLERANCE_MS = 120_000  # §7 K2: a device clock this far off is corrected and flagged
DEFAULT_TIMEZONE = "Asia/Shanghai"  # days and months are the deployment's (NUANXIN_TIMEZONE)
