"""digiops: parameterized notebooks for digital-operation consulting engagements.

The public names a notebook imports; everything else is internal to its module.
"""

from digiops.charts import setup_charts
from digiops.context import StageContext
from digiops.engagement import Engagement, load_engagement
from digiops.errors import DigiopsError
from digiops.masking import mask_frame

__version__ = "0.1.0"
__all__ = ["DigiopsError", "Engagement", "StageContext", "load_engagement", "mask_frame", "setup_charts",
           "__version__"]
