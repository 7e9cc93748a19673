import uuid

import pytest

from repositories.errors import AbortedError, AlreadyExistsError, FailedPreconditionError
from repositories.models import BusinessProfile, User
from repositories.repository import Repository
from repositories.unit_of_work import UnitOfWork

users = Repository(
    User,
    filterable=["email", "is_active"],
    orderable=["created_at", "email"],
    hidden=["hashed_password"],
)
profiles = Repository(BusinessProfile, filterable=["user_id", "industry"], orderable=["created_at"])


async def test_create_get_update_delete(sessions):
    async with UnitOfWork(sessions, statement_timeout=5) as uow:
        user = await users.create(
            uow.session, {"email": f"{uuid.uuid4().hex}@x.io", "hashed_password": "h"}
        )
        await uow.commit()
    assert "hashed_password" not in user
    assert user["is_active"] is True
    async with UnitOfWork(sessions) as uow:
        fetched = await users.get(uow.session, user["id"])
        assert fetched["etag"] == user["etag"]
        updated = await users.update(uow.session, user["id"], {"full_name": "A"}, etag=user["etag"])
        await uow.commit()
    assert updated["etag"] != user["etag"]
    async with UnitOfWork(sessions) as uow:
        with pytest.raises(AbortedError):
            await users.update(uow.session, user["id"], {"full_name": "B"}, etag=user["etag"])
    async with UnitOfWork(sessions) as uow:
        await profiles.create(
            uow.session,
            {"user_id": user["id"], "company_name": "c", "industry": "i", "employee_count": 5},
        )
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        with pytest.raises(FailedPreconditionError) as info:
            await users.delete(uow.session, user["id"])
        assert info.value.reason == "HAS_DEPENDENTS"
    async with UnitOfWork(sessions) as uow:
        with pytest.raises(AlreadyExistsError):
            await users.create(uow.session, {"email": user["email"].upper()})
    async with UnitOfWork(sessions) as uow:
        await users.delete(uow.session, user["id"], force=True)
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        page = await users.list(uow.session, filter_text=f'email = "{user["email"]}"')
        assert page.rows == []
