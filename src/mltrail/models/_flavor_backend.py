"""``FlavorBackend``: MLflow's interface for deploying a model of some flavor locally.

A backend scores a file with a model (:meth:`~FlavorBackend.predict`), serves it over HTTP
(:meth:`~FlavorBackend.serve`), prepares the environment both run in
(:meth:`~FlavorBackend.prepare_env`), and writes or builds a Docker image of it
(:meth:`~FlavorBackend.generate_dockerfile`, :meth:`~FlavorBackend.build_image`).
mltrail's backend is the ``python_function`` one, :class:`mltrail.serving.PyFuncBackend`,
which ``mltrail models predict|serve|prepare-env`` use; the base class is here, beside the
model format, so that a third party's backend needs nothing above the models layer.
"""

from __future__ import annotations

import abc
from typing import Any

__all__ = ["FlavorBackend"]


class FlavorBackend(abc.ABC):
    """The local deployment interface of a model flavor (MLflow's methods and arguments).

    *config* is the flavor's entry of the model's ``MLmodel`` (``flavors[<name>]``).
    """

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        self._config = config

    @abc.abstractmethod
    def predict(
        self, model_uri: str, input_path: str | None, output_path: str | None, content_type: str
    ) -> Any:
        """Score the file *input_path* (standard input when None) with the model *model_uri*
        names; predictions go to *output_path* (standard output when None).  *content_type*
        is the input's format: ``json`` or ``csv`` (and ``parquet`` for mltrail's backend)."""

    @abc.abstractmethod
    def serve(
        self,
        model_uri: str,
        port: int,
        host: str,
        timeout: float,
        synchronous: bool = True,
        stdout: Any = None,
        stderr: Any = None,
    ) -> Any:
        """Serve the model on *host*:*port*, answering each request within *timeout*
        seconds.  Synchronous: run until the server stops (an error if it fails); otherwise
        return the server's process (``subprocess.Popen``) at once, its output sent to
        *stdout* and *stderr*."""

    def prepare_env(self, model_uri: str, capture_output: bool = False) -> Any:
        """Prepare what :meth:`predict` and :meth:`serve` need (an environment with the
        model's requirements), so that they start fast afterwards.  Nothing by default."""
        return None

    @abc.abstractmethod
    def build_image(
        self,
        model_uri: str,
        image_name: str,
        install_java: bool = False,
        install_mlflow: bool = False,
        mlflow_home: str | None = None,
        base_image: str | None = None,
    ) -> Any:
        """Build the Docker image *image_name* that serves the model."""

    @abc.abstractmethod
    def generate_dockerfile(
        self,
        model_uri: str,
        output_dir: str,
        install_java: bool = False,
        install_mlflow: bool = False,
        mlflow_home: str | None = None,
        base_image: str | None = None,
    ) -> Any:
        """Write the Docker build context that serves the model into *output_dir*."""

    @abc.abstractmethod
    def can_score_model(self) -> bool:
        """Whether this backend can score the model here (its environment tools exist)."""

    def can_build_image(self) -> bool:
        """Whether this backend builds Docker images (it defines ``build_image``)."""
        return callable(getattr(type(self), "build_image", None))
