"""``python -m digiops.demo --people N --seed S --out DIR``."""

import sys

from digiops.demo import main

sys.exit(main())
