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

class AssessmentSessionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSESSMENT_SESSION_STATUS_UNSPECIFIED: _ClassVar[AssessmentSessionStatus]
    ASSESSMENT_SESSION_STATUS_IN_PROGRESS: _ClassVar[AssessmentSessionStatus]
    ASSESSMENT_SESSION_STATUS_COMPLETED: _ClassVar[AssessmentSessionStatus]
    ASSESSMENT_SESSION_STATUS_ABANDONED: _ClassVar[AssessmentSessionStatus]
ASSESSMENT_SESSION_STATUS_UNSPECIFIED: AssessmentSessionStatus
ASSESSMENT_SESSION_STATUS_IN_PROGRESS: AssessmentSessionStatus
ASSESSMENT_SESSION_STATUS_COMPLETED: AssessmentSessionStatus
ASSESSMENT_SESSION_STATUS_ABANDONED: AssessmentSessionStatus

class AssessmentSession(_message.Message):
    __slots__ = ("id", "user_id", "business_profile_id", "session_type", "status", "current_stage", "total_stages", "questions_answered", "total_questions", "responses", "calculated_scores", "recommendations", "recommended_frameworks", "priority_order", "next_steps", "started_at", "last_activity", "completed_at", "created_at", "updated_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_PROFILE_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_STAGE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STAGES_FIELD_NUMBER: _ClassVar[int]
    QUESTIONS_ANSWERED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    RESPONSES_FIELD_NUMBER: _ClassVar[int]
    CALCULATED_SCORES_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATIONS_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_FRAMEWORKS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_ORDER_FIELD_NUMBER: _ClassVar[int]
    NEXT_STEPS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    user_id: str
    business_profile_id: str
    session_type: str
    status: AssessmentSessionStatus
    current_stage: int
    total_stages: int
    questions_answered: int
    total_questions: int
    responses: _struct_pb2.Struct
    calculated_scores: _struct_pb2.Struct
    recommendations: _struct_pb2.ListValue
    recommended_frameworks: _struct_pb2.ListValue
    priority_order: _struct_pb2.ListValue
    next_steps: _struct_pb2.ListValue
    started_at: _timestamp_pb2.Timestamp
    last_activity: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., user_id: _Optional[str] = ..., business_profile_id: _Optional[str] = ..., session_type: _Optional[str] = ..., status: _Optional[_Union[AssessmentSessionStatus, str]] = ..., current_stage: _Optional[int] = ..., total_stages: _Optional[int] = ..., questions_answered: _Optional[int] = ..., total_questions: _Optional[int] = ..., responses: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., calculated_scores: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., recommendations: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., recommended_frameworks: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., priority_order: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., next_steps: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_activity: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class GetAssessmentSessionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListAssessmentSessionsRequest(_message.Message):
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

class ListAssessmentSessionsResponse(_message.Message):
    __slots__ = ("assessment_sessions", "next_page_token", "total_size")
    ASSESSMENT_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    assessment_sessions: _containers.RepeatedCompositeFieldContainer[AssessmentSession]
    next_page_token: str
    total_size: int
    def __init__(self, assessment_sessions: _Optional[_Iterable[_Union[AssessmentSession, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class CreateAssessmentSessionRequest(_message.Message):
    __slots__ = ("assessment_session", "request_id", "assessment_session_id")
    ASSESSMENT_SESSION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    assessment_session: AssessmentSession
    request_id: str
    assessment_session_id: str
    def __init__(self, assessment_session: _Optional[_Union[AssessmentSession, _Mapping]] = ..., request_id: _Optional[str] = ..., assessment_session_id: _Optional[str] = ...) -> None: ...

class UpdateAssessmentSessionRequest(_message.Message):
    __slots__ = ("assessment_session", "update_mask", "etag")
    ASSESSMENT_SESSION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    assessment_session: AssessmentSession
    update_mask: _field_mask_pb2.FieldMask
    etag: str
    def __init__(self, assessment_session: _Optional[_Union[AssessmentSession, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteAssessmentSessionRequest(_message.Message):
    __slots__ = ("id", "etag", "force")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    force: bool
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class BatchGetAssessmentSessionsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetAssessmentSessionsResponse(_message.Message):
    __slots__ = ("assessment_sessions",)
    ASSESSMENT_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    assessment_sessions: _containers.RepeatedCompositeFieldContainer[AssessmentSession]
    def __init__(self, assessment_sessions: _Optional[_Iterable[_Union[AssessmentSession, _Mapping]]] = ...) -> None: ...

class BatchCreateAssessmentSessionsRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[CreateAssessmentSessionRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[CreateAssessmentSessionRequest, _Mapping]]] = ...) -> None: ...

class BatchCreateAssessmentSessionsResponse(_message.Message):
    __slots__ = ("assessment_sessions",)
    ASSESSMENT_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    assessment_sessions: _containers.RepeatedCompositeFieldContainer[AssessmentSession]
    def __init__(self, assessment_sessions: _Optional[_Iterable[_Union[AssessmentSession, _Mapping]]] = ...) -> None: ...

class BatchUpdateAssessmentSessionsRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[UpdateAssessmentSessionRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[UpdateAssessmentSessionRequest, _Mapping]]] = ...) -> None: ...

class BatchUpdateAssessmentSessionsResponse(_message.Message):
    __slots__ = ("assessment_sessions",)
    ASSESSMENT_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    assessment_sessions: _containers.RepeatedCompositeFieldContainer[AssessmentSession]
    def __init__(self, assessment_sessions: _Optional[_Iterable[_Union[AssessmentSession, _Mapping]]] = ...) -> None: ...

class BatchDeleteAssessmentSessionsRequest(_message.Message):
    __slots__ = ("ids", "etags", "force")
    IDS_FIELD_NUMBER: _ClassVar[int]
    ETAGS_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    etags: _containers.RepeatedScalarFieldContainer[str]
    force: bool
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., etags: _Optional[_Iterable[str]] = ..., force: _Optional[bool] = ...) -> None: ...

class AggregateAssessmentSessionsRequest(_message.Message):
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

class AggregateAssessmentSessionsResponse(_message.Message):
    __slots__ = ("groups", "next_page_token")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[_aggregate_pb2.AggregateGroup]
    next_page_token: str
    def __init__(self, groups: _Optional[_Iterable[_Union[_aggregate_pb2.AggregateGroup, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
