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

class ComplianceFramework(_message.Message):
    __slots__ = ("id", "name", "display_name", "description", "category", "applicable_industries", "employee_thresholds", "revenue_thresholds", "geographic_scope", "key_requirements", "control_domains", "evidence_types", "relevance_factors", "policy_template", "control_templates", "evidence_templates", "complexity_score", "implementation_time_weeks", "estimated_cost_range", "is_active", "version", "created_at", "updated_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    APPLICABLE_INDUSTRIES_FIELD_NUMBER: _ClassVar[int]
    EMPLOYEE_THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    REVENUE_THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    GEOGRAPHIC_SCOPE_FIELD_NUMBER: _ClassVar[int]
    KEY_REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    CONTROL_DOMAINS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_TYPES_FIELD_NUMBER: _ClassVar[int]
    RELEVANCE_FACTORS_FIELD_NUMBER: _ClassVar[int]
    POLICY_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    CONTROL_TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    COMPLEXITY_SCORE_FIELD_NUMBER: _ClassVar[int]
    IMPLEMENTATION_TIME_WEEKS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COST_RANGE_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    display_name: str
    description: str
    category: str
    applicable_industries: _struct_pb2.ListValue
    employee_thresholds: _struct_pb2.Value
    revenue_thresholds: _struct_pb2.Value
    geographic_scope: _struct_pb2.ListValue
    key_requirements: _struct_pb2.ListValue
    control_domains: _struct_pb2.ListValue
    evidence_types: _struct_pb2.ListValue
    relevance_factors: _struct_pb2.Value
    policy_template: _struct_pb2.Value
    control_templates: _struct_pb2.Value
    evidence_templates: _struct_pb2.Value
    complexity_score: int
    implementation_time_weeks: int
    estimated_cost_range: str
    is_active: bool
    version: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., category: _Optional[str] = ..., applicable_industries: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., employee_thresholds: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., revenue_thresholds: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., geographic_scope: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., key_requirements: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., control_domains: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., evidence_types: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., relevance_factors: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., policy_template: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., control_templates: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., evidence_templates: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., complexity_score: _Optional[int] = ..., implementation_time_weeks: _Optional[int] = ..., estimated_cost_range: _Optional[str] = ..., is_active: _Optional[bool] = ..., version: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class GetComplianceFrameworkRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListComplianceFrameworksRequest(_message.Message):
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

class ListComplianceFrameworksResponse(_message.Message):
    __slots__ = ("compliance_frameworks", "next_page_token", "total_size")
    COMPLIANCE_FRAMEWORKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    compliance_frameworks: _containers.RepeatedCompositeFieldContainer[ComplianceFramework]
    next_page_token: str
    total_size: int
    def __init__(self, compliance_frameworks: _Optional[_Iterable[_Union[ComplianceFramework, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class CreateComplianceFrameworkRequest(_message.Message):
    __slots__ = ("compliance_framework", "request_id", "compliance_framework_id")
    COMPLIANCE_FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMPLIANCE_FRAMEWORK_ID_FIELD_NUMBER: _ClassVar[int]
    compliance_framework: ComplianceFramework
    request_id: str
    compliance_framework_id: str
    def __init__(self, compliance_framework: _Optional[_Union[ComplianceFramework, _Mapping]] = ..., request_id: _Optional[str] = ..., compliance_framework_id: _Optional[str] = ...) -> None: ...

class UpdateComplianceFrameworkRequest(_message.Message):
    __slots__ = ("compliance_framework", "update_mask", "etag")
    COMPLIANCE_FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    compliance_framework: ComplianceFramework
    update_mask: _field_mask_pb2.FieldMask
    etag: str
    def __init__(self, compliance_framework: _Optional[_Union[ComplianceFramework, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteComplianceFrameworkRequest(_message.Message):
    __slots__ = ("id", "etag", "force")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    force: bool
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class BatchGetComplianceFrameworksRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetComplianceFrameworksResponse(_message.Message):
    __slots__ = ("compliance_frameworks",)
    COMPLIANCE_FRAMEWORKS_FIELD_NUMBER: _ClassVar[int]
    compliance_frameworks: _containers.RepeatedCompositeFieldContainer[ComplianceFramework]
    def __init__(self, compliance_frameworks: _Optional[_Iterable[_Union[ComplianceFramework, _Mapping]]] = ...) -> None: ...

class BatchCreateComplianceFrameworksRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[CreateComplianceFrameworkRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[CreateComplianceFrameworkRequest, _Mapping]]] = ...) -> None: ...

class BatchCreateComplianceFrameworksResponse(_message.Message):
    __slots__ = ("compliance_frameworks",)
    COMPLIANCE_FRAMEWORKS_FIELD_NUMBER: _ClassVar[int]
    compliance_frameworks: _containers.RepeatedCompositeFieldContainer[ComplianceFramework]
    def __init__(self, compliance_frameworks: _Optional[_Iterable[_Union[ComplianceFramework, _Mapping]]] = ...) -> None: ...

class BatchUpdateComplianceFrameworksRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[UpdateComplianceFrameworkRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[UpdateComplianceFrameworkRequest, _Mapping]]] = ...) -> None: ...

class BatchUpdateComplianceFrameworksResponse(_message.Message):
    __slots__ = ("compliance_frameworks",)
    COMPLIANCE_FRAMEWORKS_FIELD_NUMBER: _ClassVar[int]
    compliance_frameworks: _containers.RepeatedCompositeFieldContainer[ComplianceFramework]
    def __init__(self, compliance_frameworks: _Optional[_Iterable[_Union[ComplianceFramework, _Mapping]]] = ...) -> None: ...

class BatchDeleteComplianceFrameworksRequest(_message.Message):
    __slots__ = ("ids", "etags", "force")
    IDS_FIELD_NUMBER: _ClassVar[int]
    ETAGS_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    etags: _containers.RepeatedScalarFieldContainer[str]
    force: bool
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., etags: _Optional[_Iterable[str]] = ..., force: _Optional[bool] = ...) -> None: ...

class AggregateComplianceFrameworksRequest(_message.Message):
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

class AggregateComplianceFrameworksResponse(_message.Message):
    __slots__ = ("groups", "next_page_token")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[_aggregate_pb2.AggregateGroup]
    next_page_token: str
    def __init__(self, groups: _Optional[_Iterable[_Union[_aggregate_pb2.AggregateGroup, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
