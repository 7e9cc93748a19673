import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from ruleiq.data.v1 import aggregate_pb2 as _aggregate_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IntegrationHealthStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTEGRATION_HEALTH_STATUS_UNSPECIFIED: _ClassVar[IntegrationHealthStatus]
    INTEGRATION_HEALTH_STATUS_HEALTHY: _ClassVar[IntegrationHealthStatus]
    INTEGRATION_HEALTH_STATUS_UNHEALTHY: _ClassVar[IntegrationHealthStatus]
    INTEGRATION_HEALTH_STATUS_DEGRADED: _ClassVar[IntegrationHealthStatus]
    INTEGRATION_HEALTH_STATUS_UNKNOWN: _ClassVar[IntegrationHealthStatus]
INTEGRATION_HEALTH_STATUS_UNSPECIFIED: IntegrationHealthStatus
INTEGRATION_HEALTH_STATUS_HEALTHY: IntegrationHealthStatus
INTEGRATION_HEALTH_STATUS_UNHEALTHY: IntegrationHealthStatus
INTEGRATION_HEALTH_STATUS_DEGRADED: IntegrationHealthStatus
INTEGRATION_HEALTH_STATUS_UNKNOWN: IntegrationHealthStatus

class IntegrationHealthLog(_message.Message):
    __slots__ = ("id", "integration_id", "status", "response_time_ms", "error_details", "health_data", "checked_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_DETAILS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_DATA_FIELD_NUMBER: _ClassVar[int]
    CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    integration_id: str
    status: IntegrationHealthStatus
    response_time_ms: float
    error_details: _struct_pb2.Value
    health_data: _struct_pb2.Value
    checked_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., integration_id: _Optional[str] = ..., status: _Optional[_Union[IntegrationHealthStatus, str]] = ..., response_time_ms: _Optional[float] = ..., error_details: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., health_data: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., checked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class GetIntegrationHealthLogRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListIntegrationHealthLogsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "filter", "order_by", "show_total_size", "skip")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    SHOW_TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    SKIP_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    filter: str
    order_by: str
    show_total_size: bool
    skip: int
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ..., show_total_size: _Optional[bool] = ..., skip: _Optional[int] = ...) -> None: ...

class ListIntegrationHealthLogsResponse(_message.Message):
    __slots__ = ("integration_health_logs", "next_page_token", "total_size")
    INTEGRATION_HEALTH_LOGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    integration_health_logs: _containers.RepeatedCompositeFieldContainer[IntegrationHealthLog]
    next_page_token: str
    total_size: int
    def __init__(self, integration_health_logs: _Optional[_Iterable[_Union[IntegrationHealthLog, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class CreateIntegrationHealthLogRequest(_message.Message):
    __slots__ = ("integration_health_log", "request_id", "integration_health_log_id")
    INTEGRATION_HEALTH_LOG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_HEALTH_LOG_ID_FIELD_NUMBER: _ClassVar[int]
    integration_health_log: IntegrationHealthLog
    request_id: str
    integration_health_log_id: str
    def __init__(self, integration_health_log: _Optional[_Union[IntegrationHealthLog, _Mapping]] = ..., request_id: _Optional[str] = ..., integration_health_log_id: _Optional[str] = ...) -> None: ...

class DeleteIntegrationHealthLogRequest(_message.Message):
    __slots__ = ("id", "etag", "force")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    force: bool
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class BatchGetIntegrationHealthLogsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetIntegrationHealthLogsResponse(_message.Message):
    __slots__ = ("integration_health_logs",)
    INTEGRATION_HEALTH_LOGS_FIELD_NUMBER: _ClassVar[int]
    integration_health_logs: _containers.RepeatedCompositeFieldContainer[IntegrationHealthLog]
    def __init__(self, integration_health_logs: _Optional[_Iterable[_Union[IntegrationHealthLog, _Mapping]]] = ...) -> None: ...

class BatchCreateIntegrationHealthLogsRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[CreateIntegrationHealthLogRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[CreateIntegrationHealthLogRequest, _Mapping]]] = ...) -> None: ...

class BatchCreateIntegrationHealthLogsResponse(_message.Message):
    __slots__ = ("integration_health_logs",)
    INTEGRATION_HEALTH_LOGS_FIELD_NUMBER: _ClassVar[int]
    integration_health_logs: _containers.RepeatedCompositeFieldContainer[IntegrationHealthLog]
    def __init__(self, integration_health_logs: _Optional[_Iterable[_Union[IntegrationHealthLog, _Mapping]]] = ...) -> None: ...

class BatchDeleteIntegrationHealthLogsRequest(_message.Message):
    __slots__ = ("ids", "etags", "force")
    IDS_FIELD_NUMBER: _ClassVar[int]
    ETAGS_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    etags: _containers.RepeatedScalarFieldContainer[str]
    force: bool
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., etags: _Optional[_Iterable[str]] = ..., force: _Optional[bool] = ...) -> None: ...

class AggregateIntegrationHealthLogsRequest(_message.Message):
    __slots__ = ("filter", "group_by", "metrics", "page_size", "page_token")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    filter: str
    group_by: _containers.RepeatedScalarFieldContainer[str]
    metrics: _containers.RepeatedScalarFieldContainer[str]
    page_size: int
    page_token: str
    def __init__(self, filter: _Optional[str] = ..., group_by: _Optional[_Iterable[str]] = ..., metrics: _Optional[_Iterable[str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class AggregateIntegrationHealthLogsResponse(_message.Message):
    __slots__ = ("groups", "next_page_token")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[_aggregate_pb2.AggregateGroup]
    next_page_token: str
    def __init__(self, groups: _Optional[_Iterable[_Union[_aggregate_pb2.AggregateGroup, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
