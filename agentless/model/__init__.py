"""Model protocol, the OpenAI-compatible client, usage accounting and the embedded server.

``OpenAICompatibleModel`` talks to any chat-completions endpoint; ``local_server(...)`` serves
an embedded model (llama.cpp) on loopback for the duration of a ``with`` block. This package
knows nothing of tasks, repositories or edits. A ``Message`` is one chat message
(``{"role", "content"}``); the modules behind these names are private.
"""

from agentless.model._dry_run import DryRunModel, PromptRecord
from agentless.model._local_models import resolve_model
from agentless.model._local_server import LocalEndpoint, local_server
from agentless.model._openai_compat import OpenAICompatibleModel, cost_of, request_key, safe_url
from agentless.model._retry import RetryPolicy
from agentless.model._types import CallRecord, CallRecorder, Completion, Message, Model, Usage

__all__ = [
    "CallRecord",
    "CallRecorder",
    "Completion",
    "DryRunModel",
    "LocalEndpoint",
    "Message",
    "Model",
    "OpenAICompatibleModel",
    "PromptRecord",
    "RetryPolicy",
    "Usage",
    "cost_of",
    "local_server",
    "request_key",
    "resolve_model",
    "safe_url",
]
