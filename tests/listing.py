"""List through a repository the way the servicer does: the caller's text parsed
into a typed query first."""

from __future__ import annotations

from repositories.repository import Page, Repository
from repositories.unit_of_work import Transaction
from service.query import ListLanguage


def language(repository: Repository) -> ListLanguage:
    return ListLanguage(
        repository.table,
        filterable=sorted(repository.filterable),
        orderable=repository.orderable,
        default_order=repository.default_order,
        searchable=repository.searchable,
    )


async def list_rows(
    repository: Repository,
    transaction: Transaction,
    *,
    filter_text: str = "",
    order_by: str = "",
    page_size: int = 0,
    page_token: str = "",
    skip: int = 0,
    with_total: bool = False,
) -> Page:
    query = language(repository).list_query(
        filter_text=filter_text,
        order_by=order_by,
        page_size=page_size,
        page_token=page_token,
        skip=skip,
        with_total=with_total,
    )
    return await repository.list(transaction, query)
