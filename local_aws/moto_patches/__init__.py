"""moto patches, one module per service; each is entered by ``local_aws.moto_fixes.patch_moto``."""
