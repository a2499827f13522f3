"""The app store: users, roles, API keys, account owners, audit log, imports, settings.

SQLAlchemy 2 models with Alembic migrations; SQLite by default, PostgreSQL in
production. Open it with :func:`open_store` and run each use case in one
transaction::

    store = open_store(settings.database_url)
    with store.session() as session:
        user = create_user(session, email="ana@example.com", name="Ana",
                           role=Role.CSM, actor="cli")

Repository functions never commit; every write adds an audit row to the same
transaction.
"""

from helix.store.assignments import (
    accounts_of,
    assign,
    get_assignment,
    owner_of,
    sync_from_import,
)
from helix.store.audit import SYSTEM_ACTOR, recent, record
from helix.store.db import AppStore, open_store
from helix.store.imports import finish_import, get_import, list_imports, start_import
from helix.store.keys import create_key, get_key, list_keys, revoke_key, verify_key
from helix.store.models import (
    AccountAssignment,
    ApiKey,
    AssignmentSource,
    AuditLog,
    ImportRun,
    ImportStatus,
    Role,
    Scope,
    Setting,
    User,
)
from helix.store.settings import all_settings, get_setting, set_setting
from helix.store.users import (
    authenticate,
    create_user,
    deactivate_user,
    get_user_by_email,
    list_users,
    set_role,
)

__all__ = [
    # opening
    "AppStore",
    "open_store",
    # models and enums
    "User",
    "ApiKey",
    "AccountAssignment",
    "AuditLog",
    "ImportRun",
    "Setting",
    "Role",
    "Scope",
    "ImportStatus",
    "AssignmentSource",
    # users
    "create_user",
    "authenticate",
    "get_user_by_email",
    "list_users",
    "set_role",
    "deactivate_user",
    # API keys
    "create_key",
    "verify_key",
    "revoke_key",
    "get_key",
    "list_keys",
    # audit
    "record",
    "recent",
    "SYSTEM_ACTOR",
    # assignments
    "sync_from_import",
    "assign",
    "get_assignment",
    "owner_of",
    "accounts_of",
    # imports
    "start_import",
    "finish_import",
    "get_import",
    "list_imports",
    # settings
    "get_setting",
    "set_setting",
    "all_settings",
]
