"""Kept so that imports of ``local_aws.moto_fixes`` still work: the patches live in
:mod:`local_aws.moto_patches`, one module per service. Import from there."""

from local_aws.moto_patches import *  # noqa: F403
from local_aws.moto_patches import __all__  # noqa: F401
