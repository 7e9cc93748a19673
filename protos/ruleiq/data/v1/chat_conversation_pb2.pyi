import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from ruleiq.data.v1 import aggregate_pb2 as _aggregate_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChatConversationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHAT_CONVERSATION_STATUS_UNSPECIFIED: _ClassVar[ChatConversationStatus]
    CHAT_CONVERSATION_STATUS_ACTIVE: _ClassVar[ChatConversationStatus]
    CHAT_CONVERSATION_STATUS_ARCHIVED: _ClassVar[ChatConversationStatus]
    CHAT_CONVERSATION_STATUS_DELETED: _ClassVar[ChatConversationStatus]
CHAT_CONVERSATION_STATUS_UNSPECIFIED: ChatConversationStatus
CHAT_CONVERSATION_STATUS_ACTIVE: ChatConversationStatus
CHAT_CONVERSATION_STATUS_ARCHIVED: ChatConversationStatus
CHAT_CONVERSATION_STATUS_DELETED: ChatConversationStatus

class ChatConversation(_message.Message):
    __slots__ = ("id", "user_id", "business_profile_id", "title", "status", "created_at", "updated_at", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_PROFILE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    user_id: str
    business_profile_id: str
    title: str
    status: ChatConversationStatus
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., user_id: _Optional[str] = ..., business_profile_id: _Optional[str] = ..., title: _Optional[str] = ..., status: _Optional[_Union[ChatConversationStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class GetChatConversationRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListChatConversationsRequest(_message.Message):
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

class ListChatConversationsResponse(_message.Message):
    __slots__ = ("chat_conversations", "next_page_token", "total_size")
    CHAT_CONVERSATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    chat_conversations: _containers.RepeatedCompositeFieldContainer[ChatConversation]
    next_page_token: str
    total_size: int
    def __init__(self, chat_conversations: _Optional[_Iterable[_Union[ChatConversation, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class CreateChatConversationRequest(_message.Message):
    __slots__ = ("chat_conversation", "request_id", "chat_conversation_id")
    CHAT_CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CHAT_CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    chat_conversation: ChatConversation
    request_id: str
    chat_conversation_id: str
    def __init__(self, chat_conversation: _Optional[_Union[ChatConversation, _Mapping]] = ..., request_id: _Optional[str] = ..., chat_conversation_id: _Optional[str] = ...) -> None: ...

class UpdateChatConversationRequest(_message.Message):
    __slots__ = ("chat_conversation", "update_mask", "etag")
    CHAT_CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    chat_conversation: ChatConversation
    update_mask: _field_mask_pb2.FieldMask
    etag: str
    def __init__(self, chat_conversation: _Optional[_Union[ChatConversation, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteChatConversationRequest(_message.Message):
    __slots__ = ("id", "etag", "force")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    force: bool
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class BatchGetChatConversationsRequest(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetChatConversationsResponse(_message.Message):
    __slots__ = ("chat_conversations",)
    CHAT_CONVERSATIONS_FIELD_NUMBER: _ClassVar[int]
    chat_conversations: _containers.RepeatedCompositeFieldContainer[ChatConversation]
    def __init__(self, chat_conversations: _Optional[_Iterable[_Union[ChatConversation, _Mapping]]] = ...) -> None: ...

class BatchCreateChatConversationsRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[CreateChatConversationRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[CreateChatConversationRequest, _Mapping]]] = ...) -> None: ...

class BatchCreateChatConversationsResponse(_message.Message):
    __slots__ = ("chat_conversations",)
    CHAT_CONVERSATIONS_FIELD_NUMBER: _ClassVar[int]
    chat_conversations: _containers.RepeatedCompositeFieldContainer[ChatConversation]
    def __init__(self, chat_conversations: _Optional[_Iterable[_Union[ChatConversation, _Mapping]]] = ...) -> None: ...

class BatchUpdateChatConversationsRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[UpdateChatConversationRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[UpdateChatConversationRequest, _Mapping]]] = ...) -> None: ...

class BatchUpdateChatConversationsResponse(_message.Message):
    __slots__ = ("chat_conversations",)
    CHAT_CONVERSATIONS_FIELD_NUMBER: _ClassVar[int]
    chat_conversations: _containers.RepeatedCompositeFieldContainer[ChatConversation]
    def __init__(self, chat_conversations: _Optional[_Iterable[_Union[ChatConversation, _Mapping]]] = ...) -> None: ...

class BatchDeleteChatConversationsRequest(_message.Message):
    __slots__ = ("ids", "etags", "force")
    IDS_FIELD_NUMBER: _ClassVar[int]
    ETAGS_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    etags: _containers.RepeatedScalarFieldContainer[str]
    force: bool
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., etags: _Optional[_Iterable[str]] = ..., force: _Optional[bool] = ...) -> None: ...

class AggregateChatConversationsRequest(_message.Message):
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

class AggregateChatConversationsResponse(_message.Message):
    __slots__ = ("groups", "next_page_token")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[_aggregate_pb2.AggregateGroup]
    next_page_token: str
    def __init__(self, groups: _Optional[_Iterable[_Union[_aggregate_pb2.AggregateGroup, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
