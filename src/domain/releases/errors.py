"""Refusals of the releases context: a value that is not one, or a rule that the
current state forbids. Each names the field or the rule it is about."""

from domain.common.errors import DomainError, InvalidValueError


class InvalidServiceNameError(InvalidValueError):
    field = "name"


class InvalidVersionError(InvalidValueError):
    field = "version"


class InvalidEnvironmentNameError(InvalidValueError):
    field = "environment"


class ReleaseRuleError(DomainError):
    """The request is well formed but the state forbids it (a 409 naming the rule)."""

    code = "conflict"
    default_message = "the release rules forbid this"


class IllegalStatusMoveError(ReleaseRuleError):
    pass


class ReleaseNotDeployableError(ReleaseRuleError):
    pass


class PromotionRuleError(ReleaseRuleError):
    pass


class EnvironmentBusyError(ReleaseRuleError):
    default_message = (
        "rule one-active-deployment: the environment already has a deployment "
        "pending or in progress"
    )
