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

class DataSensitivity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATA_SENSITIVITY_UNSPECIFIED: _ClassVar[DataSensitivity]
    DATA_SENSITIVITY_LOW: _ClassVar[DataSensitivity]
    DATA_SENSITIVITY_MEDIUM: _ClassVar[DataSensitivity]
    DATA_SENSITIVITY_HIGH: _ClassVar[DataSensitivity]
    DATA_SENSITIVITY_CRITICAL: _ClassVar[DataSensitivity]
DATA_SENSITIVITY_UNSPECIFIED: DataSensitivity
DATA_SENSITIVITY_LOW: DataSensitivity
DATA_SENSITIVITY_MEDIUM: DataSensitivity
DATA_SENSITIVITY_HIGH: DataSensitivity
DATA_SENSITIVITY_CRITICAL: DataSensitivity

class BusinessProfile(_message.Message):
    __slots__ = ("id", "user_id", "company_name", "industry", "employee_count", "annual_revenue", "country", "data_sensitivity", "handles_personal_data", "processes_payments", "stores_health_data", "provides_financial_services", "operates_critical_infrastructure", "has_international_operations", "cloud_providers", "saas_tools", "development_tools", "existing_frameworks", "planned_frameworks", "compliance_budget", "compliance_timeline", "assessment_completed", "assessment_data", "created_at", "updated_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    COMPANY_NAME_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    EMPLOYEE_COUNT_FIELD_NUMBER: _ClassVar[int]
    ANNUAL_REVENUE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    DATA_SENSITIVITY_FIELD_NUMBER: _ClassVar[int]
    HANDLES_PERSONAL_DATA_FIELD_NUMBER: _ClassVar[int]
    PROCESSES_PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    STORES_HEALTH_DATA_FIELD_NUMBER: _ClassVar[int]
    PROVIDES_FINANCIAL_SERVICES_FIELD_NUMBER: _ClassVar[int]
    OPERATES_CRITICAL_INFRASTRUCTURE_FIELD_NUMBER: _ClassVar[int]
    HAS_INTERNATIONAL_OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    CLOUD_PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    SAAS_TOOLS_FIELD_NUMBER: _ClassVar[int]
    DEVELOPMENT_TOOLS_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FRAMEWORKS_FIELD_NUMBER: _ClassVar[int]
    PLANNED_FRAMEWORKS_FIELD_NUMBER: _ClassVar[int]
    COMPLIANCE_BUDGET_FIELD_NUMBER: _ClassVar[int]
    COMPLIANCE_TIMELINE_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_DATA_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    user_id: str
    company_name: str
    industry: str
    employee_count: int
    annual_revenue: str
    country: str
    data_sensitivity: DataSensitivity
    handles_personal_data: bool
    processes_payments: bool
    stores_health_data: bool
    provides_financial_services: bool
    operates_critical_infrastructure: bool
    has_international_operations: bool
    cloud_providers: _struct_pb2.ListValue
    saas_tools: _struct_pb2.ListValue
    development_tools: _struct_pb2.ListValue
    existing_frameworks: _struct_pb2.ListValue
    planned_frameworks: _struct_pb2.ListValue
    compliance_budget: str
    compliance_timeline: str
    assessment_completed: bool
    assessment_data: _struct_pb2.Struct
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., user_id: _Optional[str] = ..., company_name: _Optional[str] = ..., industry: _Optional[str] = ..., employee_count: _Optional[int] = ..., annual_revenue: _Optional[str] = ..., country: _Optional[str] = ..., data_sensitivity: _Optional[_Union[DataSensitivity, str]] = ..., handles_personal_data: _Optional[bool] = ..., processes_payments: _Optional[bool] = ..., stores_health_data: _Optional[bool] = ..., provides_financial_services: _Optional[bool] = ..., operates_critical_infrastructure: _Optional[bool] = ..., has_international_operations: _Optional[bool] = ..., cloud_providers: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., saas_tools: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., development_tools: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., existing_frameworks: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., planned_frameworks: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., compliance_budget: _Optional[str] = ..., compliance_timeline: _Optional[str] = ..., assessment_completed: _Optional[bool] = ..., assessment_data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class GetBusinessProfileRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListBusinessProfilesRequest(_message.Message):
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

class ListBusinessProfilesResponse(_message.Message):
    __slots__ = ("business_profiles", "next_page_token", "total_size")
    BUSINESS_PROFILES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    business_profiles: _containers.RepeatedCompositeFieldContainer[BusinessProfile]
    next_page_token: str
    total_size: int
    def __init__(self, business_profiles: _Optional[_Iterable[_Union[BusinessProfile, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class CreateBusinessProfileRequest(_message.Message):
    __slots__ = ("business_profile", "request_id", "business_profile_id")
    BUSINESS_PROFILE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_PROFILE_ID_FIELD_NUMBER: _ClassVar[int]
    business_profile: BusinessProfile
    request_id: str
    business_profile_id: str
    def __init__(self, business_profile: _Optional[_Union[BusinessProfile, _Mapping]] = ..., request_id: _Optional[str] = ..., business_profile_id: _Optional[str] = ...) -> None: ...

class UpdateBusinessProfileRequest(_message.Message):
    __slots__ = ("business_profile", "update_mask", "etag")
    BUSINESS_PROFILE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    business_profile: BusinessProfile
    update_mask: _field_mask_pb2.FieldMask
    etag: str
    def __init__(self, business_profile: _Optional[_Union[BusinessProfile, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteBusinessProfileRequest(_message.Message):
    __slots__ = ("id", "etag", "force")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    force: bool
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class BatchGetBusinessProfilesRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetBusinessProfilesResponse(_message.Message):
    __slots__ = ("business_profiles",)
    BUSINESS_PROFILES_FIELD_NUMBER: _ClassVar[int]
    business_profiles: _containers.RepeatedCompositeFieldContainer[BusinessProfile]
    def __init__(self, business_profiles: _Optional[_Iterable[_Union[BusinessProfile, _Mapping]]] = ...) -> None: ...

class BatchCreateBusinessProfilesRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[CreateBusinessProfileRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[CreateBusinessProfileRequest, _Mapping]]] = ...) -> None: ...

class BatchCreateBusinessProfilesResponse(_message.Message):
    __slots__ = ("business_profiles",)
    BUSINESS_PROFILES_FIELD_NUMBER: _ClassVar[int]
    business_profiles: _containers.RepeatedCompositeFieldContainer[BusinessProfile]
    def __init__(self, business_profiles: _Optional[_Iterable[_Union[BusinessProfile, _Mapping]]] = ...) -> None: ...

class BatchUpdateBusinessProfilesRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[UpdateBusinessProfileRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[UpdateBusinessProfileRequest, _Mapping]]] = ...) -> None: ...

class BatchUpdateBusinessProfilesResponse(_message.Message):
    __slots__ = ("business_profiles",)
    BUSINESS_PROFILES_FIELD_NUMBER: _ClassVar[int]
    business_profiles: _containers.RepeatedCompositeFieldContainer[BusinessProfile]
    def __init__(self, business_profiles: _Optional[_Iterable[_Union[BusinessProfile, _Mapping]]] = ...) -> None: ...

class BatchDeleteBusinessProfilesRequest(_message.Message):
    __slots__ = ("ids", "etags", "force")
    IDS_FIELD_NUMBER: _ClassVar[int]
    ETAGS_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    etags: _containers.RepeatedScalarFieldContainer[str]
    force: bool
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., etags: _Optional[_Iterable[str]] = ..., force: _Optional[bool] = ...) -> None: ...

class AggregateBusinessProfilesRequest(_message.Message):
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

class AggregateBusinessProfilesResponse(_message.Message):
    __slots__ = ("groups", "next_page_token")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[_aggregate_pb2.AggregateGroup]
    next_page_token: str
    def __init__(self, groups: _Optional[_Iterable[_Union[_aggregate_pb2.AggregateGroup, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
