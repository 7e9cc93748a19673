import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from ruleiq.data.v1 import aggregate_pb2 as _aggregate_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EvidenceCollectionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVIDENCE_COLLECTION_STATUS_UNSPECIFIED: _ClassVar[EvidenceCollectionStatus]
    EVIDENCE_COLLECTION_STATUS_PENDING: _ClassVar[EvidenceCollectionStatus]
    EVIDENCE_COLLECTION_STATUS_RUNNING: _ClassVar[EvidenceCollectionStatus]
    EVIDENCE_COLLECTION_STATUS_COMPLETED: _ClassVar[EvidenceCollectionStatus]
    EVIDENCE_COLLECTION_STATUS_FAILED: _ClassVar[EvidenceCollectionStatus]
    EVIDENCE_COLLECTION_STATUS_CANCELLED: _ClassVar[EvidenceCollectionStatus]

class CollectionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COLLECTION_MODE_UNSPECIFIED: _ClassVar[CollectionMode]
    COLLECTION_MODE_IMMEDIATE: _ClassVar[CollectionMode]
    COLLECTION_MODE_SCHEDULED: _ClassVar[CollectionMode]
    COLLECTION_MODE_STREAMING: _ClassVar[CollectionMode]
EVIDENCE_COLLECTION_STATUS_UNSPECIFIED: EvidenceCollectionStatus
EVIDENCE_COLLECTION_STATUS_PENDING: EvidenceCollectionStatus
EVIDENCE_COLLECTION_STATUS_RUNNING: EvidenceCollectionStatus
EVIDENCE_COLLECTION_STATUS_COMPLETED: EvidenceCollectionStatus
EVIDENCE_COLLECTION_STATUS_FAILED: EvidenceCollectionStatus
EVIDENCE_COLLECTION_STATUS_CANCELLED: EvidenceCollectionStatus
COLLECTION_MODE_UNSPECIFIED: CollectionMode
COLLECTION_MODE_IMMEDIATE: CollectionMode
COLLECTION_MODE_SCHEDULED: CollectionMode
COLLECTION_MODE_STREAMING: CollectionMode

class EvidenceCollection(_message.Message):
    __slots__ = ("id", "integration_id", "user_id", "framework_code", "status", "progress_percentage", "evidence_types_requested", "evidence_types_completed", "quality_score", "started_at", "completed_at", "estimated_completion", "current_activity", "errors", "business_profile_snapshot", "collection_mode", "created_at", "updated_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_TYPES_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_TYPES_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    QUALITY_SCORE_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COMPLETION_FIELD_NUMBER: _ClassVar[int]
    CURRENT_ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_PROFILE_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_MODE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    integration_id: str
    user_id: str
    framework_code: str
    status: EvidenceCollectionStatus
    progress_percentage: int
    evidence_types_requested: _struct_pb2.ListValue
    evidence_types_completed: _struct_pb2.ListValue
    quality_score: _struct_pb2.Struct
    started_at: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    estimated_completion: _timestamp_pb2.Timestamp
    current_activity: str
    errors: _struct_pb2.ListValue
    business_profile_snapshot: _struct_pb2.Struct
    collection_mode: CollectionMode
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., integration_id: _Optional[str] = ..., user_id: _Optional[str] = ..., framework_code: _Optional[str] = ..., status: _Optional[_Union[EvidenceCollectionStatus, str]] = ..., progress_percentage: _Optional[int] = ..., evidence_types_requested: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., evidence_types_completed: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., quality_score: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., estimated_completion: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., current_activity: _Optional[str] = ..., errors: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., business_profile_snapshot: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., collection_mode: _Optional[_Union[CollectionMode, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class GetEvidenceCollectionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListEvidenceCollectionsRequest(_message.Message):
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

class ListEvidenceCollectionsResponse(_message.Message):
    __slots__ = ("evidence_collections", "next_page_token", "total_size")
    EVIDENCE_COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    evidence_collections: _containers.RepeatedCompositeFieldContainer[EvidenceCollection]
    next_page_token: str
    total_size: int
    def __init__(self, evidence_collections: _Optional[_Iterable[_Union[EvidenceCollection, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class CreateEvidenceCollectionRequest(_message.Message):
    __slots__ = ("evidence_collection", "request_id", "evidence_collection_id")
    EVIDENCE_COLLECTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_COLLECTION_ID_FIELD_NUMBER: _ClassVar[int]
    evidence_collection: EvidenceCollection
    request_id: str
    evidence_collection_id: str
    def __init__(self, evidence_collection: _Optional[_Union[EvidenceCollection, _Mapping]] = ..., request_id: _Optional[str] = ..., evidence_collection_id: _Optional[str] = ...) -> None: ...

class UpdateEvidenceCollectionRequest(_message.Message):
    __slots__ = ("evidence_collection", "update_mask", "etag")
    EVIDENCE_COLLECTION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    evidence_collection: EvidenceCollection
    update_mask: _field_mask_pb2.FieldMask
    etag: str
    def __init__(self, evidence_collection: _Optional[_Union[EvidenceCollection, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteEvidenceCollectionRequest(_message.Message):
    __slots__ = ("id", "etag", "force")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    force: bool
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class BatchGetEvidenceCollectionsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetEvidenceCollectionsResponse(_message.Message):
    __slots__ = ("evidence_collections",)
    EVIDENCE_COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    evidence_collections: _containers.RepeatedCompositeFieldContainer[EvidenceCollection]
    def __init__(self, evidence_collections: _Optional[_Iterable[_Union[EvidenceCollection, _Mapping]]] = ...) -> None: ...

class BatchCreateEvidenceCollectionsRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[CreateEvidenceCollectionRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[CreateEvidenceCollectionRequest, _Mapping]]] = ...) -> None: ...

class BatchCreateEvidenceCollectionsResponse(_message.Message):
    __slots__ = ("evidence_collections",)
    EVIDENCE_COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    evidence_collections: _containers.RepeatedCompositeFieldContainer[EvidenceCollection]
    def __init__(self, evidence_collections: _Optional[_Iterable[_Union[EvidenceCollection, _Mapping]]] = ...) -> None: ...

class BatchUpdateEvidenceCollectionsRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[UpdateEvidenceCollectionRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[UpdateEvidenceCollectionRequest, _Mapping]]] = ...) -> None: ...

class BatchUpdateEvidenceCollectionsResponse(_message.Message):
    __slots__ = ("evidence_collections",)
    EVIDENCE_COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    evidence_collections: _containers.RepeatedCompositeFieldContainer[EvidenceCollection]
    def __init__(self, evidence_collections: _Optional[_Iterable[_Union[EvidenceCollection, _Mapping]]] = ...) -> None: ...

class BatchDeleteEvidenceCollectionsRequest(_message.Message):
    __slots__ = ("ids", "etags", "force")
    IDS_FIELD_NUMBER: _ClassVar[int]
    ETAGS_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    etags: _containers.RepeatedScalarFieldContainer[str]
    force: bool
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., etags: _Optional[_Iterable[str]] = ..., force: _Optional[bool] = ...) -> None: ...

class AggregateEvidenceCollectionsRequest(_message.Message):
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

class AggregateEvidenceCollectionsResponse(_message.Message):
    __slots__ = ("groups", "next_page_token")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[_aggregate_pb2.AggregateGroup]
    next_page_token: str
    def __init__(self, groups: _Optional[_Iterable[_Union[_aggregate_pb2.AggregateGroup, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
