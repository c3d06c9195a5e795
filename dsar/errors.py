"""One error root for the whole engine.

    DsarError                      code
    ├── NotFound                   not_found
    ├── InvalidInput               invalid_input
    │   ├── PolicyError            policy_invalid
    │   └── IntakeError            intake_invalid
    ├── WorkflowDefinitionError    workflow_invalid   (file, line, reason)
    ├── TransitionError            transition_not_allowed
    │   └── GuardFailed            guard_failed
    ├── Conflict                   conflict
    └── ServiceUnavailable         service_unavailable

Domain code raises these; the CLI maps them to exit codes and the API to HTTP statuses. Every message says
what was wrong and what to do about it.
"""

from __future__ import annotations


class DsarError(Exception):
    code = "error"
    exit_code = 1

    def __init__(self, message: str, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, **{k: v for k, v in self.context.items()}}


class NotFound(DsarError):
    code = "not_found"


class InvalidInput(DsarError):
    code = "invalid_input"
    exit_code = 2


class PolicyError(InvalidInput):
    code = "policy_invalid"


class IntakeError(InvalidInput):
    code = "intake_invalid"


class WorkflowDefinitionError(DsarError):
    """A workflow file that cannot be used; carries every problem found with file and line."""

    code = "workflow_invalid"
    exit_code = 2

    def __init__(self, problems: list[DefinitionProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems), problems=[p.as_dict() for p in problems])


class DefinitionProblem:
    def __init__(self, file: str, line: int | None, reason: str) -> None:
        self.file, self.line, self.reason = file, line, reason

    def __str__(self) -> str:
        return f"{self.file}:{self.line or '?'}: {self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "reason": self.reason}


class TransitionError(DsarError):
    code = "transition_not_allowed"


class GuardFailed(TransitionError):
    code = "guard_failed"


class Conflict(DsarError):
    code = "conflict"


class ServiceUnavailable(DsarError):
    code = "service_unavailable"
