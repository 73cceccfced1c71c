"""``from mltrail.models.signature import infer_signature``, as MLflow users write it."""

from mltrail.models._signature import ModelSignature, infer_signature

__all__ = ["ModelSignature", "infer_signature"]
