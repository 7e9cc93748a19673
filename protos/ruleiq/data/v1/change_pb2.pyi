import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChangeEvent(_message.Message):
    __slots__ = ("id", "changed_at", "resource_type", "resource_id", "owner_user_id", "operation", "revision", "changed_fields", "before", "after", "actor", "source", "database_role", "on_behalf_of", "request_id", "trace_id", "commit_id", "transaction_id", "erased_at", "watch_xid", "values_omitted")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHANGED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DATABASE_ROLE_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    COMMIT_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    ERASED_AT_FIELD_NUMBER: _ClassVar[int]
    WATCH_XID_FIELD_NUMBER: _ClassVar[int]
    VALUES_OMITTED_FIELD_NUMBER: _ClassVar[int]
    id: int
    changed_at: _timestamp_pb2.Timestamp
    resource_type: str
    resource_id: str
    owner_user_id: str
    operation: str
    revision: int
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    before: _struct_pb2.Struct
    after: _struct_pb2.Struct
    actor: str
    source: str
    database_role: str
    on_behalf_of: str
    request_id: str
    trace_id: str
    commit_id: str
    transaction_id: int
    erased_at: _timestamp_pb2.Timestamp
    watch_xid: int
    values_omitted: bool
    def __init__(self, id: _Optional[int] = ..., changed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resource_type: _Optional[str] = ..., resource_id: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., operation: _Optional[str] = ..., revision: _Optional[int] = ..., changed_fields: _Optional[_Iterable[str]] = ..., before: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., after: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., actor: _Optional[str] = ..., source: _Optional[str] = ..., database_role: _Optional[str] = ..., on_behalf_of: _Optional[str] = ..., request_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., commit_id: _Optional[str] = ..., transaction_id: _Optional[int] = ..., erased_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., watch_xid: _Optional[int] = ..., values_omitted: _Optional[bool] = ...) -> None: ...

class ListChangesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "filter")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    filter: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ...) -> None: ...

class ListChangesResponse(_message.Message):
    __slots__ = ("changes", "next_page_token")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[ChangeEvent]
    next_page_token: str
    def __init__(self, changes: _Optional[_Iterable[_Union[ChangeEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchChangesRequest(_message.Message):
    __slots__ = ("filter", "resume_token")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    filter: str
    resume_token: str
    def __init__(self, filter: _Optional[str] = ..., resume_token: _Optional[str] = ...) -> None: ...

class WatchChangesResponse(_message.Message):
    __slots__ = ("changes", "resume_token")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[ChangeEvent]
    resume_token: str
    def __init__(self, changes: _Optional[_Iterable[_Union[ChangeEvent, _Mapping]]] = ..., resume_token: _Optional[str] = ...) -> None: ...
