"""digiops: parameterized notebooks for digital-operation consulting engagements.

The public names a notebook imports; everything else is internal to its module.
"""

import sys

# jsonschema (which nbformat, papermill and nbconvert import) loads rfc3987_syntax when it is installed, and that
# compiles 38 Lark grammars at import: 2.5 s of every `digiops run` and of every process the tests start
# (python-jsonschema/jsonschema#1428). It only checks the `iri` formats, which nothing here validates.
sys.modules.setdefault("rfc3987_syntax", None)

from digiops.context import StageContext  # noqa: E402
from digiops.engagement import Engagement, load_engagement  # noqa: E402
from digiops.errors import DigiopsError  # noqa: E402
from digiops.masking import mask_frame  # noqa: E402

__version__ = "0.1.0"
__all__ = ["DigiopsError", "Engagement", "StageContext", "load_engagement", "mask_frame", "__version__"]
