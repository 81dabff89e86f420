"""Roles, role assignment, API keys and the audit trail."""

from dependency_injector import containers, providers

from application.access.use_cases.assign_roles import AssignRoles
from application.access.use_cases.authenticate_api_key import AuthenticateApiKey
from application.access.use_cases.manage_api_keys import CreateApiKey, ListApiKeys, RevokeApiKey
from application.access.use_cases.manage_roles import (
    ChangeRole,
    CreateRole,
    DeleteRole,
    GetRole,
    ListRoles,
)
from application.audit.use_cases.list_audit_events import ListAuditEvents


class Access(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
    security = providers.DependenciesContainer()
    events = providers.DependenciesContainer()
    identity = providers.DependenciesContainer()
    persistence = providers.DependenciesContainer()
    caching = providers.DependenciesContainer()

    _uow = (events.uow_factory, core.clock)

    list_roles = providers.Singleton(ListRoles, events.uow_factory)
    get_role = providers.Singleton(GetRole, events.uow_factory)
    create_role = providers.Singleton(CreateRole, *_uow)
    change_role = providers.Singleton(ChangeRole, *_uow)
    delete_role = providers.Singleton(DeleteRole, *_uow)
    assign_roles = providers.Singleton(AssignRoles, *_uow)
    create_api_key = providers.Singleton(
        CreateApiKey, *_uow, security.api_key_secrets, core.ids, identity.reauthenticator
    )
    list_api_keys = providers.Singleton(ListApiKeys, events.uow_factory)
    revoke_api_key = providers.Singleton(RevokeApiKey, *_uow)
    authenticate_api_key = providers.Singleton(
        AuthenticateApiKey,
        *_uow,
        security.api_key_secrets,
        caching.user_cache,
    )
    list_audit_events = providers.Singleton(ListAuditEvents, events.uow_factory)
