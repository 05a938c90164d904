"""The service invoker: call a JSON service, get a dict back, never an exception."""

from __future__ import annotations

from .service import ErrorCode, invoke_service, invoke_service_async

__all__ = ["ErrorCode", "invoke_service", "invoke_service_async"]
