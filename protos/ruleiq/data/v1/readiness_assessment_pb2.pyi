import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from ruleiq.data.v1 import aggregate_pb2 as _aggregate_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ScoreTrend(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCORE_TREND_UNSPECIFIED: _ClassVar[ScoreTrend]
    SCORE_TREND_IMPROVING: _ClassVar[ScoreTrend]
    SCORE_TREND_STABLE: _ClassVar[ScoreTrend]
    SCORE_TREND_DECLINING: _ClassVar[ScoreTrend]
    SCORE_TREND_UNKNOWN: _ClassVar[ScoreTrend]
SCORE_TREND_UNSPECIFIED: ScoreTrend
SCORE_TREND_IMPROVING: ScoreTrend
SCORE_TREND_STABLE: ScoreTrend
SCORE_TREND_DECLINING: ScoreTrend
SCORE_TREND_UNKNOWN: ScoreTrend

class ReadinessAssessment(_message.Message):
    __slots__ = ("id", "user_id", "business_profile_id", "framework_id", "overall_score", "score_breakdown", "priority_actions", "quick_wins", "score_trend", "estimated_readiness_date", "created_at", "updated_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_PROFILE_ID_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_ID_FIELD_NUMBER: _ClassVar[int]
    OVERALL_SCORE_FIELD_NUMBER: _ClassVar[int]
    SCORE_BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    QUICK_WINS_FIELD_NUMBER: _ClassVar[int]
    SCORE_TREND_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_READINESS_DATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    user_id: str
    business_profile_id: str
    framework_id: str
    overall_score: float
    score_breakdown: _struct_pb2.Struct
    priority_actions: _struct_pb2.ListValue
    quick_wins: _struct_pb2.ListValue
    score_trend: ScoreTrend
    estimated_readiness_date: _date_pb2.Date
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., user_id: _Optional[str] = ..., business_profile_id: _Optional[str] = ..., framework_id: _Optional[str] = ..., overall_score: _Optional[float] = ..., score_breakdown: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., priority_actions: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., quick_wins: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., score_trend: _Optional[_Union[ScoreTrend, str]] = ..., estimated_readiness_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class GetReadinessAssessmentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListReadinessAssessmentsRequest(_message.Message):
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

class ListReadinessAssessmentsResponse(_message.Message):
    __slots__ = ("readiness_assessments", "next_page_token", "total_size")
    READINESS_ASSESSMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    readiness_assessments: _containers.RepeatedCompositeFieldContainer[ReadinessAssessment]
    next_page_token: str
    total_size: int
    def __init__(self, readiness_assessments: _Optional[_Iterable[_Union[ReadinessAssessment, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class CreateReadinessAssessmentRequest(_message.Message):
    __slots__ = ("readiness_assessment", "request_id", "readiness_assessment_id")
    READINESS_ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    READINESS_ASSESSMENT_ID_FIELD_NUMBER: _ClassVar[int]
    readiness_assessment: ReadinessAssessment
    request_id: str
    readiness_assessment_id: str
    def __init__(self, readiness_assessment: _Optional[_Union[ReadinessAssessment, _Mapping]] = ..., request_id: _Optional[str] = ..., readiness_assessment_id: _Optional[str] = ...) -> None: ...

class UpdateReadinessAssessmentRequest(_message.Message):
    __slots__ = ("readiness_assessment", "update_mask", "etag")
    READINESS_ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    readiness_assessment: ReadinessAssessment
    update_mask: _field_mask_pb2.FieldMask
    etag: str
    def __init__(self, readiness_assessment: _Optional[_Union[ReadinessAssessment, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteReadinessAssessmentRequest(_message.Message):
    __slots__ = ("id", "etag", "force")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    force: bool
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class BatchGetReadinessAssessmentsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetReadinessAssessmentsResponse(_message.Message):
    __slots__ = ("readiness_assessments",)
    READINESS_ASSESSMENTS_FIELD_NUMBER: _ClassVar[int]
    readiness_assessments: _containers.RepeatedCompositeFieldContainer[ReadinessAssessment]
    def __init__(self, readiness_assessments: _Optional[_Iterable[_Union[ReadinessAssessment, _Mapping]]] = ...) -> None: ...

class BatchCreateReadinessAssessmentsRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[CreateReadinessAssessmentRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[CreateReadinessAssessmentRequest, _Mapping]]] = ...) -> None: ...

class BatchCreateReadinessAssessmentsResponse(_message.Message):
    __slots__ = ("readiness_assessments",)
    READINESS_ASSESSMENTS_FIELD_NUMBER: _ClassVar[int]
    readiness_assessments: _containers.RepeatedCompositeFieldContainer[ReadinessAssessment]
    def __init__(self, readiness_assessments: _Optional[_Iterable[_Union[ReadinessAssessment, _Mapping]]] = ...) -> None: ...

class BatchUpdateReadinessAssessmentsRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[UpdateReadinessAssessmentRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[UpdateReadinessAssessmentRequest, _Mapping]]] = ...) -> None: ...

class BatchUpdateReadinessAssessmentsResponse(_message.Message):
    __slots__ = ("readiness_assessments",)
    READINESS_ASSESSMENTS_FIELD_NUMBER: _ClassVar[int]
    readiness_assessments: _containers.RepeatedCompositeFieldContainer[ReadinessAssessment]
    def __init__(self, readiness_assessments: _Optional[_Iterable[_Union[ReadinessAssessment, _Mapping]]] = ...) -> None: ...

class BatchDeleteReadinessAssessmentsRequest(_message.Message):
    __slots__ = ("ids", "etags", "force")
    IDS_FIELD_NUMBER: _ClassVar[int]
    ETAGS_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    etags: _containers.RepeatedScalarFieldContainer[str]
    force: bool
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., etags: _Optional[_Iterable[str]] = ..., force: _Optional[bool] = ...) -> None: ...

class AggregateReadinessAssessmentsRequest(_message.Message):
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

class AggregateReadinessAssessmentsResponse(_message.Message):
    __slots__ = ("groups", "next_page_token")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[_aggregate_pb2.AggregateGroup]
    next_page_token: str
    def __init__(self, groups: _Optional[_Iterable[_Union[_aggregate_pb2.AggregateGroup, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
