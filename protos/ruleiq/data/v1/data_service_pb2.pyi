from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from ruleiq.data.v1 import user_pb2 as _user_pb2
from ruleiq.data.v1 import business_profile_pb2 as _business_profile_pb2
from ruleiq.data.v1 import compliance_framework_pb2 as _compliance_framework_pb2
from ruleiq.data.v1 import evidence_pb2 as _evidence_pb2
from ruleiq.data.v1 import policy_pb2 as _policy_pb2
from ruleiq.data.v1 import assessment_session_pb2 as _assessment_session_pb2
from ruleiq.data.v1 import assessment_question_pb2 as _assessment_question_pb2
from ruleiq.data.v1 import integration_pb2 as _integration_pb2
from ruleiq.data.v1 import evidence_collection_pb2 as _evidence_collection_pb2
from ruleiq.data.v1 import integration_health_log_pb2 as _integration_health_log_pb2
from ruleiq.data.v1 import readiness_assessment_pb2 as _readiness_assessment_pb2
from ruleiq.data.v1 import chat_conversation_pb2 as _chat_conversation_pb2
from ruleiq.data.v1 import chat_message_pb2 as _chat_message_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CommitRequest(_message.Message):
    __slots__ = ("request_id", "mutations", "validate_only")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MUTATIONS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    mutations: _containers.RepeatedCompositeFieldContainer[Mutation]
    validate_only: bool
    def __init__(self, request_id: _Optional[str] = ..., mutations: _Optional[_Iterable[_Union[Mutation, _Mapping]]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class Mutation(_message.Message):
    __slots__ = ("create_user", "update_user", "delete_user", "create_business_profile", "update_business_profile", "delete_business_profile", "create_compliance_framework", "update_compliance_framework", "delete_compliance_framework", "create_evidence", "update_evidence", "delete_evidence", "create_policy", "update_policy", "delete_policy", "create_assessment_session", "update_assessment_session", "delete_assessment_session", "create_assessment_question", "update_assessment_question", "delete_assessment_question", "create_integration", "update_integration", "delete_integration", "create_evidence_collection", "update_evidence_collection", "delete_evidence_collection", "create_integration_health_log", "delete_integration_health_log", "create_readiness_assessment", "update_readiness_assessment", "delete_readiness_assessment", "create_chat_conversation", "update_chat_conversation", "delete_chat_conversation", "create_chat_message", "delete_chat_message")
    CREATE_USER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_USER_FIELD_NUMBER: _ClassVar[int]
    DELETE_USER_FIELD_NUMBER: _ClassVar[int]
    CREATE_BUSINESS_PROFILE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_BUSINESS_PROFILE_FIELD_NUMBER: _ClassVar[int]
    DELETE_BUSINESS_PROFILE_FIELD_NUMBER: _ClassVar[int]
    CREATE_COMPLIANCE_FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    UPDATE_COMPLIANCE_FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    DELETE_COMPLIANCE_FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    CREATE_EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    DELETE_EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    CREATE_POLICY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_POLICY_FIELD_NUMBER: _ClassVar[int]
    DELETE_POLICY_FIELD_NUMBER: _ClassVar[int]
    CREATE_ASSESSMENT_SESSION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_ASSESSMENT_SESSION_FIELD_NUMBER: _ClassVar[int]
    DELETE_ASSESSMENT_SESSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_ASSESSMENT_QUESTION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_ASSESSMENT_QUESTION_FIELD_NUMBER: _ClassVar[int]
    DELETE_ASSESSMENT_QUESTION_FIELD_NUMBER: _ClassVar[int]
    CREATE_INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    DELETE_INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    CREATE_EVIDENCE_COLLECTION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_EVIDENCE_COLLECTION_FIELD_NUMBER: _ClassVar[int]
    DELETE_EVIDENCE_COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CREATE_INTEGRATION_HEALTH_LOG_FIELD_NUMBER: _ClassVar[int]
    DELETE_INTEGRATION_HEALTH_LOG_FIELD_NUMBER: _ClassVar[int]
    CREATE_READINESS_ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_READINESS_ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    DELETE_READINESS_ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    CREATE_CHAT_CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_CHAT_CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    DELETE_CHAT_CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    CREATE_CHAT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DELETE_CHAT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    create_user: _user_pb2.CreateUserRequest
    update_user: _user_pb2.UpdateUserRequest
    delete_user: _user_pb2.DeleteUserRequest
    create_business_profile: _business_profile_pb2.CreateBusinessProfileRequest
    update_business_profile: _business_profile_pb2.UpdateBusinessProfileRequest
    delete_business_profile: _business_profile_pb2.DeleteBusinessProfileRequest
    create_compliance_framework: _compliance_framework_pb2.CreateComplianceFrameworkRequest
    update_compliance_framework: _compliance_framework_pb2.UpdateComplianceFrameworkRequest
    delete_compliance_framework: _compliance_framework_pb2.DeleteComplianceFrameworkRequest
    create_evidence: _evidence_pb2.CreateEvidenceRequest
    update_evidence: _evidence_pb2.UpdateEvidenceRequest
    delete_evidence: _evidence_pb2.DeleteEvidenceRequest
    create_policy: _policy_pb2.CreatePolicyRequest
    update_policy: _policy_pb2.UpdatePolicyRequest
    delete_policy: _policy_pb2.DeletePolicyRequest
    create_assessment_session: _assessment_session_pb2.CreateAssessmentSessionRequest
    update_assessment_session: _assessment_session_pb2.UpdateAssessmentSessionRequest
    delete_assessment_session: _assessment_session_pb2.DeleteAssessmentSessionRequest
    create_assessment_question: _assessment_question_pb2.CreateAssessmentQuestionRequest
    update_assessment_question: _assessment_question_pb2.UpdateAssessmentQuestionRequest
    delete_assessment_question: _assessment_question_pb2.DeleteAssessmentQuestionRequest
    create_integration: _integration_pb2.CreateIntegrationRequest
    update_integration: _integration_pb2.UpdateIntegrationRequest
    delete_integration: _integration_pb2.DeleteIntegrationRequest
    create_evidence_collection: _evidence_collection_pb2.CreateEvidenceCollectionRequest
    update_evidence_collection: _evidence_collection_pb2.UpdateEvidenceCollectionRequest
    delete_evidence_collection: _evidence_collection_pb2.DeleteEvidenceCollectionRequest
    create_integration_health_log: _integration_health_log_pb2.CreateIntegrationHealthLogRequest
    delete_integration_health_log: _integration_health_log_pb2.DeleteIntegrationHealthLogRequest
    create_readiness_assessment: _readiness_assessment_pb2.CreateReadinessAssessmentRequest
    update_readiness_assessment: _readiness_assessment_pb2.UpdateReadinessAssessmentRequest
    delete_readiness_assessment: _readiness_assessment_pb2.DeleteReadinessAssessmentRequest
    create_chat_conversation: _chat_conversation_pb2.CreateChatConversationRequest
    update_chat_conversation: _chat_conversation_pb2.UpdateChatConversationRequest
    delete_chat_conversation: _chat_conversation_pb2.DeleteChatConversationRequest
    create_chat_message: _chat_message_pb2.CreateChatMessageRequest
    delete_chat_message: _chat_message_pb2.DeleteChatMessageRequest
    def __init__(self, create_user: _Optional[_Union[_user_pb2.CreateUserRequest, _Mapping]] = ..., update_user: _Optional[_Union[_user_pb2.UpdateUserRequest, _Mapping]] = ..., delete_user: _Optional[_Union[_user_pb2.DeleteUserRequest, _Mapping]] = ..., create_business_profile: _Optional[_Union[_business_profile_pb2.CreateBusinessProfileRequest, _Mapping]] = ..., update_business_profile: _Optional[_Union[_business_profile_pb2.UpdateBusinessProfileRequest, _Mapping]] = ..., delete_business_profile: _Optional[_Union[_business_profile_pb2.DeleteBusinessProfileRequest, _Mapping]] = ..., create_compliance_framework: _Optional[_Union[_compliance_framework_pb2.CreateComplianceFrameworkRequest, _Mapping]] = ..., update_compliance_framework: _Optional[_Union[_compliance_framework_pb2.UpdateComplianceFrameworkRequest, _Mapping]] = ..., delete_compliance_framework: _Optional[_Union[_compliance_framework_pb2.DeleteComplianceFrameworkRequest, _Mapping]] = ..., create_evidence: _Optional[_Union[_evidence_pb2.CreateEvidenceRequest, _Mapping]] = ..., update_evidence: _Optional[_Union[_evidence_pb2.UpdateEvidenceRequest, _Mapping]] = ..., delete_evidence: _Optional[_Union[_evidence_pb2.DeleteEvidenceRequest, _Mapping]] = ..., create_policy: _Optional[_Union[_policy_pb2.CreatePolicyRequest, _Mapping]] = ..., update_policy: _Optional[_Union[_policy_pb2.UpdatePolicyRequest, _Mapping]] = ..., delete_policy: _Optional[_Union[_policy_pb2.DeletePolicyRequest, _Mapping]] = ..., create_assessment_session: _Optional[_Union[_assessment_session_pb2.CreateAssessmentSessionRequest, _Mapping]] = ..., update_assessment_session: _Optional[_Union[_assessment_session_pb2.UpdateAssessmentSessionRequest, _Mapping]] = ..., delete_assessment_session: _Optional[_Union[_assessment_session_pb2.DeleteAssessmentSessionRequest, _Mapping]] = ..., create_assessment_question: _Optional[_Union[_assessment_question_pb2.CreateAssessmentQuestionRequest, _Mapping]] = ..., update_assessment_question: _Optional[_Union[_assessment_question_pb2.UpdateAssessmentQuestionRequest, _Mapping]] = ..., delete_assessment_question: _Optional[_Union[_assessment_question_pb2.DeleteAssessmentQuestionRequest, _Mapping]] = ..., create_integration: _Optional[_Union[_integration_pb2.CreateIntegrationRequest, _Mapping]] = ..., update_integration: _Optional[_Union[_integration_pb2.UpdateIntegrationRequest, _Mapping]] = ..., delete_integration: _Optional[_Union[_integration_pb2.DeleteIntegrationRequest, _Mapping]] = ..., create_evidence_collection: _Optional[_Union[_evidence_collection_pb2.CreateEvidenceCollectionRequest, _Mapping]] = ..., update_evidence_collection: _Optional[_Union[_evidence_collection_pb2.UpdateEvidenceCollectionRequest, _Mapping]] = ..., delete_evidence_collection: _Optional[_Union[_evidence_collection_pb2.DeleteEvidenceCollectionRequest, _Mapping]] = ..., create_integration_health_log: _Optional[_Union[_integration_health_log_pb2.CreateIntegrationHealthLogRequest, _Mapping]] = ..., delete_integration_health_log: _Optional[_Union[_integration_health_log_pb2.DeleteIntegrationHealthLogRequest, _Mapping]] = ..., create_readiness_assessment: _Optional[_Union[_readiness_assessment_pb2.CreateReadinessAssessmentRequest, _Mapping]] = ..., update_readiness_assessment: _Optional[_Union[_readiness_assessment_pb2.UpdateReadinessAssessmentRequest, _Mapping]] = ..., delete_readiness_assessment: _Optional[_Union[_readiness_assessment_pb2.DeleteReadinessAssessmentRequest, _Mapping]] = ..., create_chat_conversation: _Optional[_Union[_chat_conversation_pb2.CreateChatConversationRequest, _Mapping]] = ..., update_chat_conversation: _Optional[_Union[_chat_conversation_pb2.UpdateChatConversationRequest, _Mapping]] = ..., delete_chat_conversation: _Optional[_Union[_chat_conversation_pb2.DeleteChatConversationRequest, _Mapping]] = ..., create_chat_message: _Optional[_Union[_chat_message_pb2.CreateChatMessageRequest, _Mapping]] = ..., delete_chat_message: _Optional[_Union[_chat_message_pb2.DeleteChatMessageRequest, _Mapping]] = ...) -> None: ...

class CommitResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[MutationResult]
    def __init__(self, results: _Optional[_Iterable[_Union[MutationResult, _Mapping]]] = ...) -> None: ...

class MutationResult(_message.Message):
    __slots__ = ("user", "business_profile", "compliance_framework", "evidence", "policy", "assessment_session", "assessment_question", "integration", "evidence_collection", "integration_health_log", "readiness_assessment", "chat_conversation", "chat_message", "deleted")
    USER_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_PROFILE_FIELD_NUMBER: _ClassVar[int]
    COMPLIANCE_FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_SESSION_FIELD_NUMBER: _ClassVar[int]
    ASSESSMENT_QUESTION_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_COLLECTION_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_HEALTH_LOG_FIELD_NUMBER: _ClassVar[int]
    READINESS_ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    CHAT_CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    CHAT_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    user: _user_pb2.User
    business_profile: _business_profile_pb2.BusinessProfile
    compliance_framework: _compliance_framework_pb2.ComplianceFramework
    evidence: _evidence_pb2.Evidence
    policy: _policy_pb2.Policy
    assessment_session: _assessment_session_pb2.AssessmentSession
    assessment_question: _assessment_question_pb2.AssessmentQuestion
    integration: _integration_pb2.Integration
    evidence_collection: _evidence_collection_pb2.EvidenceCollection
    integration_health_log: _integration_health_log_pb2.IntegrationHealthLog
    readiness_assessment: _readiness_assessment_pb2.ReadinessAssessment
    chat_conversation: _chat_conversation_pb2.ChatConversation
    chat_message: _chat_message_pb2.ChatMessage
    deleted: _empty_pb2.Empty
    def __init__(self, user: _Optional[_Union[_user_pb2.User, _Mapping]] = ..., business_profile: _Optional[_Union[_business_profile_pb2.BusinessProfile, _Mapping]] = ..., compliance_framework: _Optional[_Union[_compliance_framework_pb2.ComplianceFramework, _Mapping]] = ..., evidence: _Optional[_Union[_evidence_pb2.Evidence, _Mapping]] = ..., policy: _Optional[_Union[_policy_pb2.Policy, _Mapping]] = ..., assessment_session: _Optional[_Union[_assessment_session_pb2.AssessmentSession, _Mapping]] = ..., assessment_question: _Optional[_Union[_assessment_question_pb2.AssessmentQuestion, _Mapping]] = ..., integration: _Optional[_Union[_integration_pb2.Integration, _Mapping]] = ..., evidence_collection: _Optional[_Union[_evidence_collection_pb2.EvidenceCollection, _Mapping]] = ..., integration_health_log: _Optional[_Union[_integration_health_log_pb2.IntegrationHealthLog, _Mapping]] = ..., readiness_assessment: _Optional[_Union[_readiness_assessment_pb2.ReadinessAssessment, _Mapping]] = ..., chat_conversation: _Optional[_Union[_chat_conversation_pb2.ChatConversation, _Mapping]] = ..., chat_message: _Optional[_Union[_chat_message_pb2.ChatMessage, _Mapping]] = ..., deleted: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ...) -> None: ...
