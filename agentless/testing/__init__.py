"""Test helpers shipped with the package: a scripted OpenAI-compatible server on loopback."""

from agentless.testing.server import Fault, RecordedRequest, Reply, ScriptedServer

__all__ = ["Fault", "RecordedRequest", "Reply", "ScriptedServer"]
