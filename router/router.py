"""The public entry point: ``Router``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from router.byok import ByokMixin
from router.decision.classifier import Classifier
from router.decision.features import FeatureExtractor
from router.types import Decision

__all__ = ["Router"]


class Router(ByokMixin):
    """Decides task, language and tier for a prompt, and routes it.

    Usage::

        router = Router()
        decision = router.classify("Prove that the square root of 2 is irrational")
        decision.tier, decision.task, decision.reasons

    Args:
        model: ``None`` (default) uses the bundled trained model, falling back to
            the rules with a warning on each decision if it cannot be loaded; a
            path to a ``.json`` artifact uses that model (and raises
            ``ModelArtifactError`` if it cannot be loaded); ``False`` uses the
            rules only.
        confidence_threshold: model confidence under which the artifact's
            low-confidence policy (rules or a blend) decides instead.
        keywords_dir: a folder of ``<lang>.yaml`` keyword tables replacing the bundled ones.
        scoring_path: a ``scoring.yaml`` replacing the bundled rule weights.

    Calling models with your own keys (``chat``, ``achat``, ``chat_stream``,
    ``achat_stream``, ``responses.create``, ``route``; see docs/byok.md)::

        router = Router(keys={"openai": "sk-...", "anthropic": "sk-ant-..."})
        reply = router.chat([{"role": "user", "content": "Hi"}])  # model="auto"
        reply.content, reply.model_used, reply.decision.savings

    Keys come from ``keys=`` or the providers' environment variables
    (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, ...). The other
    keyword arguments (``profile``, ``strategy``, ``rules``, ``exclude_models``,
    ``baseline_model``, ``providers``, ``models``, ``timeout``, ``l2``, ...)
    are described in :meth:`router.byok.ByokMixin._init_byok` and docs/byok.md.
    """

    def __init__(
        self,
        *,
        model: Any = None,
        confidence_threshold: float | None = None,
        keywords_dir: str | Path | None = None,
        scoring_path: str | Path | None = None,
        **byok: Any,
    ) -> None:
        self._classifier_args: dict[str, Any] = {
            "confidence_threshold": confidence_threshold,
            "keywords_dir": keywords_dir,
            "scoring_path": scoring_path,
        }
        self._model_arg = model
        self._classifier = Classifier(model=_promoted_or(model), **self._classifier_args)
        self._init_byok(**byok)

    def reload_model(self, model: Any = None) -> str | None:
        """Load the decision model again (after ``tierrouter models promote``/``rollback``).

        ``model`` as in the constructor; by default the one given at construction
        (``None``: the promoted model of the registry, else the bundled one).
        Calls in flight finish with the old model. Returns the new model version.
        """
        if model is not None:
            self._model_arg = model
        self._classifier = Classifier(model=_promoted_or(self._model_arg), **self._classifier_args)
        return self._classifier.model.version if self._classifier.model else None

    @property
    def classifier(self) -> Classifier:
        """The decision engine: features, model and rules."""
        return self._classifier

    @property
    def extractor(self) -> FeatureExtractor:
        """The feature extractor, shared with training so both read prompts alike."""
        return self._classifier.extractor

    def classify(
        self,
        messages: Any,
        *,
        tools: Any = None,
        response_format: Any = None,
    ) -> Decision:
        """Decide task, tier and language for a string or an OpenAI-style message list.

        Raises:
            RouterInputError: when ``messages`` cannot be read; the message names the problem.
        """
        return self._classifier.classify(messages, tools=tools, response_format=response_format)


def _promoted_or(model: Any) -> Any:
    """Model registry hook (router/log/registry.py): a promoted model replaces the bundled one.

    Only when ``model`` is None (the default); an unusable promoted model warns
    and leaves the bundled one in place.
    """
    if model is not None:
        return model
    from router.log.registry import promoted_artifact

    return promoted_artifact()
