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

class EvidenceStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVIDENCE_STATUS_UNSPECIFIED: _ClassVar[EvidenceStatus]
    EVIDENCE_STATUS_NOT_STARTED: _ClassVar[EvidenceStatus]
    EVIDENCE_STATUS_IN_PROGRESS: _ClassVar[EvidenceStatus]
    EVIDENCE_STATUS_COLLECTED: _ClassVar[EvidenceStatus]
    EVIDENCE_STATUS_UNDER_REVIEW: _ClassVar[EvidenceStatus]
    EVIDENCE_STATUS_APPROVED: _ClassVar[EvidenceStatus]
    EVIDENCE_STATUS_REJECTED: _ClassVar[EvidenceStatus]
    EVIDENCE_STATUS_EXPIRED: _ClassVar[EvidenceStatus]

class EvidencePriority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVIDENCE_PRIORITY_UNSPECIFIED: _ClassVar[EvidencePriority]
    EVIDENCE_PRIORITY_LOW: _ClassVar[EvidencePriority]
    EVIDENCE_PRIORITY_MEDIUM: _ClassVar[EvidencePriority]
    EVIDENCE_PRIORITY_HIGH: _ClassVar[EvidencePriority]
    EVIDENCE_PRIORITY_CRITICAL: _ClassVar[EvidencePriority]
EVIDENCE_STATUS_UNSPECIFIED: EvidenceStatus
EVIDENCE_STATUS_NOT_STARTED: EvidenceStatus
EVIDENCE_STATUS_IN_PROGRESS: EvidenceStatus
EVIDENCE_STATUS_COLLECTED: EvidenceStatus
EVIDENCE_STATUS_UNDER_REVIEW: EvidenceStatus
EVIDENCE_STATUS_APPROVED: EvidenceStatus
EVIDENCE_STATUS_REJECTED: EvidenceStatus
EVIDENCE_STATUS_EXPIRED: EvidenceStatus
EVIDENCE_PRIORITY_UNSPECIFIED: EvidencePriority
EVIDENCE_PRIORITY_LOW: EvidencePriority
EVIDENCE_PRIORITY_MEDIUM: EvidencePriority
EVIDENCE_PRIORITY_HIGH: EvidencePriority
EVIDENCE_PRIORITY_CRITICAL: EvidencePriority

class Evidence(_message.Message):
    __slots__ = ("id", "user_id", "business_profile_id", "framework_id", "evidence_name", "evidence_type", "control_reference", "description", "required_for_audit", "collection_frequency", "collection_method", "automation_source", "automation_guidance", "file_path", "file_type", "file_size_bytes", "status", "collection_notes", "review_notes", "collected_by", "collected_at", "reviewed_by", "reviewed_at", "approved_by", "approved_at", "priority", "effort_estimate", "audit_section", "compliance_score_impact", "ai_metadata", "created_at", "updated_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_PROFILE_ID_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_ID_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_NAME_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTROL_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FOR_AUDIT_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_METHOD_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_SOURCE_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_GUIDANCE_FIELD_NUMBER: _ClassVar[int]
    FILE_PATH_FIELD_NUMBER: _ClassVar[int]
    FILE_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_NOTES_FIELD_NUMBER: _ClassVar[int]
    REVIEW_NOTES_FIELD_NUMBER: _ClassVar[int]
    COLLECTED_BY_FIELD_NUMBER: _ClassVar[int]
    COLLECTED_AT_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_BY_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_AT_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    APPROVED_AT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    EFFORT_ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    AUDIT_SECTION_FIELD_NUMBER: _ClassVar[int]
    COMPLIANCE_SCORE_IMPACT_FIELD_NUMBER: _ClassVar[int]
    AI_METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    user_id: str
    business_profile_id: str
    framework_id: str
    evidence_name: str
    evidence_type: str
    control_reference: str
    description: str
    required_for_audit: bool
    collection_frequency: str
    collection_method: str
    automation_source: str
    automation_guidance: str
    file_path: str
    file_type: str
    file_size_bytes: int
    status: EvidenceStatus
    collection_notes: str
    review_notes: str
    collected_by: str
    collected_at: _timestamp_pb2.Timestamp
    reviewed_by: str
    reviewed_at: _timestamp_pb2.Timestamp
    approved_by: str
    approved_at: _timestamp_pb2.Timestamp
    priority: EvidencePriority
    effort_estimate: str
    audit_section: str
    compliance_score_impact: float
    ai_metadata: _struct_pb2.Struct
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., user_id: _Optional[str] = ..., business_profile_id: _Optional[str] = ..., framework_id: _Optional[str] = ..., evidence_name: _Optional[str] = ..., evidence_type: _Optional[str] = ..., control_reference: _Optional[str] = ..., description: _Optional[str] = ..., required_for_audit: _Optional[bool] = ..., collection_frequency: _Optional[str] = ..., collection_method: _Optional[str] = ..., automation_source: _Optional[str] = ..., automation_guidance: _Optional[str] = ..., file_path: _Optional[str] = ..., file_type: _Optional[str] = ..., file_size_bytes: _Optional[int] = ..., status: _Optional[_Union[EvidenceStatus, str]] = ..., collection_notes: _Optional[str] = ..., review_notes: _Optional[str] = ..., collected_by: _Optional[str] = ..., collected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reviewed_by: _Optional[str] = ..., reviewed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., approved_by: _Optional[str] = ..., approved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., priority: _Optional[_Union[EvidencePriority, str]] = ..., effort_estimate: _Optional[str] = ..., audit_section: _Optional[str] = ..., compliance_score_impact: _Optional[float] = ..., ai_metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class GetEvidenceRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListEvidenceRequest(_message.Message):
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

class ListEvidenceResponse(_message.Message):
    __slots__ = ("evidence", "next_page_token", "total_size")
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    evidence: _containers.RepeatedCompositeFieldContainer[Evidence]
    next_page_token: str
    total_size: int
    def __init__(self, evidence: _Optional[_Iterable[_Union[Evidence, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class CreateEvidenceRequest(_message.Message):
    __slots__ = ("evidence", "request_id", "evidence_id")
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_ID_FIELD_NUMBER: _ClassVar[int]
    evidence: Evidence
    request_id: str
    evidence_id: str
    def __init__(self, evidence: _Optional[_Union[Evidence, _Mapping]] = ..., request_id: _Optional[str] = ..., evidence_id: _Optional[str] = ...) -> None: ...

class UpdateEvidenceRequest(_message.Message):
    __slots__ = ("evidence", "update_mask", "etag")
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    evidence: Evidence
    update_mask: _field_mask_pb2.FieldMask
    etag: str
    def __init__(self, evidence: _Optional[_Union[Evidence, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteEvidenceRequest(_message.Message):
    __slots__ = ("id", "etag", "force")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    force: bool
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class BatchGetEvidenceRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetEvidenceResponse(_message.Message):
    __slots__ = ("evidence",)
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    evidence: _containers.RepeatedCompositeFieldContainer[Evidence]
    def __init__(self, evidence: _Optional[_Iterable[_Union[Evidence, _Mapping]]] = ...) -> None: ...

class BatchCreateEvidenceRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[CreateEvidenceRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[CreateEvidenceRequest, _Mapping]]] = ...) -> None: ...

class BatchCreateEvidenceResponse(_message.Message):
    __slots__ = ("evidence",)
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    evidence: _containers.RepeatedCompositeFieldContainer[Evidence]
    def __init__(self, evidence: _Optional[_Iterable[_Union[Evidence, _Mapping]]] = ...) -> None: ...

class BatchUpdateEvidenceRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[UpdateEvidenceRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[UpdateEvidenceRequest, _Mapping]]] = ...) -> None: ...

class BatchUpdateEvidenceResponse(_message.Message):
    __slots__ = ("evidence",)
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    evidence: _containers.RepeatedCompositeFieldContainer[Evidence]
    def __init__(self, evidence: _Optional[_Iterable[_Union[Evidence, _Mapping]]] = ...) -> None: ...

class BatchDeleteEvidenceRequest(_message.Message):
    __slots__ = ("ids", "etags", "force")
    IDS_FIELD_NUMBER: _ClassVar[int]
    ETAGS_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    etags: _containers.RepeatedScalarFieldContainer[str]
    force: bool
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., etags: _Optional[_Iterable[str]] = ..., force: _Optional[bool] = ...) -> None: ...

class AggregateEvidenceRequest(_message.Message):
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

class AggregateEvidenceResponse(_message.Message):
    __slots__ = ("groups", "next_page_token")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[_aggregate_pb2.AggregateGroup]
    next_page_token: str
    def __init__(self, groups: _Optional[_Iterable[_Union[_aggregate_pb2.AggregateGroup, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
