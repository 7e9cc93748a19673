from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetDatabaseInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DatabaseInfo(_message.Message):
    __slots__ = ("server_version", "migration_revision", "round_trip_ms", "pool", "application_name", "database", "host", "replicas", "read_only")
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIGRATION_REVISION_FIELD_NUMBER: _ClassVar[int]
    ROUND_TRIP_MS_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_NAME_FIELD_NUMBER: _ClassVar[int]
    DATABASE_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    server_version: str
    migration_revision: str
    round_trip_ms: float
    pool: PoolStats
    application_name: str
    database: str
    host: str
    replicas: _containers.RepeatedCompositeFieldContainer[ReplicaInfo]
    read_only: bool
    def __init__(self, server_version: _Optional[str] = ..., migration_revision: _Optional[str] = ..., round_trip_ms: _Optional[float] = ..., pool: _Optional[_Union[PoolStats, _Mapping]] = ..., application_name: _Optional[str] = ..., database: _Optional[str] = ..., host: _Optional[str] = ..., replicas: _Optional[_Iterable[_Union[ReplicaInfo, _Mapping]]] = ..., read_only: _Optional[bool] = ...) -> None: ...

class ReplicaInfo(_message.Message):
    __slots__ = ("name", "host", "in_rotation", "lag_seconds", "problem", "pool")
    NAME_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    IN_ROTATION_FIELD_NUMBER: _ClassVar[int]
    LAG_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    POOL_FIELD_NUMBER: _ClassVar[int]
    name: str
    host: str
    in_rotation: bool
    lag_seconds: float
    problem: str
    pool: PoolStats
    def __init__(self, name: _Optional[str] = ..., host: _Optional[str] = ..., in_rotation: _Optional[bool] = ..., lag_seconds: _Optional[float] = ..., problem: _Optional[str] = ..., pool: _Optional[_Union[PoolStats, _Mapping]] = ...) -> None: ...

class PoolStats(_message.Message):
    __slots__ = ("size", "checked_in", "checked_out", "overflow", "max_overflow", "timeout_seconds")
    SIZE_FIELD_NUMBER: _ClassVar[int]
    CHECKED_IN_FIELD_NUMBER: _ClassVar[int]
    CHECKED_OUT_FIELD_NUMBER: _ClassVar[int]
    OVERFLOW_FIELD_NUMBER: _ClassVar[int]
    MAX_OVERFLOW_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    size: int
    checked_in: int
    checked_out: int
    overflow: int
    max_overflow: int
    timeout_seconds: float
    def __init__(self, size: _Optional[int] = ..., checked_in: _Optional[int] = ..., checked_out: _Optional[int] = ..., overflow: _Optional[int] = ..., max_overflow: _Optional[int] = ..., timeout_seconds: _Optional[float] = ...) -> None: ...
