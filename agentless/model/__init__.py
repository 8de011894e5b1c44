"""Model protocol, the OpenAI-compatible client, and usage accounting.

This package knows nothing of tasks, repositories or edits.
"""

from agentless.model.dry_run import DryRunModel, PromptRecord
from agentless.model.openai_compat import OpenAICompatibleModel, cost_of, request_key
from agentless.model.retry import RetryPolicy
from agentless.model.types import CallRecord, CallRecorder, Completion, Message, Model, Usage

__all__ = [
    "CallRecord",
    "CallRecorder",
    "Completion",
    "DryRunModel",
    "Message",
    "Model",
    "OpenAICompatibleModel",
    "PromptRecord",
    "RetryPolicy",
    "Usage",
    "cost_of",
    "request_key",
]
