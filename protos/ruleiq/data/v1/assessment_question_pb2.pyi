import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from ruleiq.data.v1 import aggregate_pb2 as _aggregate_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AssessmentQuestion(_message.Message):
    __slots__ = ("id", "session_id", "question_text", "question_type", "answer_text", "options", "position", "created_at", "updated_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_TEXT_FIELD_NUMBER: _ClassVar[int]
    QUESTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    ANSWER_TEXT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    session_id: str
    question_text: str
    question_type: str
    answer_text: str
    options: _struct_pb2.Value
    position: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., session_id: _Optional[str] = ..., question_text: _Optional[str] = ..., question_type: _Optional[str] = ..., answer_text: _Optional[str] = ..., options: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., position: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class GetAssessmentQuestionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListAssessmentQuestionsRequest(_message.Message):
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

class ListAssessmentQuestionsResponse(_message.Message):
    __slots__ = ("assessment_questions", "next_page_token", "total_size")
    ASSESSMENT_QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    assessment_questions: _containers.RepeatedCompositeFieldContainer[AssessmentQuestion]
    next_page_token: str
    total_size: int
    def __init__(self, assessment_questions: _Optional[_Iterable[_Union[AssessmentQuestion, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class CreateAssessmentQuestionRequest(_message.Message):
    __slots__ = ("assessment_question", "request_id", "assessment_question_id")
    ASSESSMENT_QUESTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    assessment_question: AssessmentQuestion
    request_id: str
    assessment_question_id: str
    def __init__(self, assessment_question: _Optional[_Union[AssessmentQuestion, _Mapping]] = ..., request_id: _Optional[str] = ..., assessment_question_id: _Optional[str] = ...) -> None: ...

class UpdateAssessmentQuestionRequest(_message.Message):
    __slots__ = ("assessment_question", "update_mask", "etag")
    ASSESSMENT_QUESTION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    assessment_question: AssessmentQuestion
    update_mask: _field_mask_pb2.FieldMask
    etag: str
    def __init__(self, assessment_question: _Optional[_Union[AssessmentQuestion, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteAssessmentQuestionRequest(_message.Message):
    __slots__ = ("id", "etag", "force")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    force: bool
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class BatchGetAssessmentQuestionsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetAssessmentQuestionsResponse(_message.Message):
    __slots__ = ("assessment_questions",)
    ASSESSMENT_QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    assessment_questions: _containers.RepeatedCompositeFieldContainer[AssessmentQuestion]
    def __init__(self, assessment_questions: _Optional[_Iterable[_Union[AssessmentQuestion, _Mapping]]] = ...) -> None: ...

class BatchCreateAssessmentQuestionsRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[CreateAssessmentQuestionRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[CreateAssessmentQuestionRequest, _Mapping]]] = ...) -> None: ...

class BatchCreateAssessmentQuestionsResponse(_message.Message):
    __slots__ = ("assessment_questions",)
    ASSESSMENT_QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    assessment_questions: _containers.RepeatedCompositeFieldContainer[AssessmentQuestion]
    def __init__(self, assessment_questions: _Optional[_Iterable[_Union[AssessmentQuestion, _Mapping]]] = ...) -> None: ...

class BatchUpdateAssessmentQuestionsRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[UpdateAssessmentQuestionRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[UpdateAssessmentQuestionRequest, _Mapping]]] = ...) -> None: ...

class BatchUpdateAssessmentQuestionsResponse(_message.Message):
    __slots__ = ("assessment_questions",)
    ASSESSMENT_QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    assessment_questions: _containers.RepeatedCompositeFieldContainer[AssessmentQuestion]
    def __init__(self, assessment_questions: _Optional[_Iterable[_Union[AssessmentQuestion, _Mapping]]] = ...) -> None: ...

class BatchDeleteAssessmentQuestionsRequest(_message.Message):
    __slots__ = ("ids", "etags", "force")
    IDS_FIELD_NUMBER: _ClassVar[int]
    ETAGS_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    etags: _containers.RepeatedScalarFieldContainer[str]
    force: bool
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., etags: _Optional[_Iterable[str]] = ..., force: _Optional[bool] = ...) -> None: ...

class AggregateAssessmentQuestionsRequest(_message.Message):
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

class AggregateAssessmentQuestionsResponse(_message.Message):
    __slots__ = ("groups", "next_page_token")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[_aggregate_pb2.AggregateGroup]
    next_page_token: str
    def __init__(self, groups: _Optional[_Iterable[_Union[_aggregate_pb2.AggregateGroup, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
