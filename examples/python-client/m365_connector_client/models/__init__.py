"""Contains all the data models used in inputs/outputs"""

from .address import Address
from .admin_consent_request import AdminConsentRequest
from .admin_consent_started import AdminConsentStarted
from .attendee import Attendee
from .attendee_type import AttendeeType
from .booking_form import BookingForm
from .booking_request import BookingRequest
from .calendar_attendee import CalendarAttendee
from .calendar_attendee_proposed_new_time import CalendarAttendeeProposedNewTime
from .calendar_attendee_response import CalendarAttendeeResponse
from .calendar_event import CalendarEvent
from .calendar_event_list import CalendarEventList
from .calendar_event_type import CalendarEventType
from .callback_form import CallbackForm
from .cancel_request import CancelRequest
from .capability import Capability
from .claim_request import ClaimRequest
from .claimed import Claimed
from .connection import Connection
from .connection_list import ConnectionList
from .connection_started import ConnectionStarted
from .connection_status import ConnectionStatus
from .custom_headers import CustomHeaders
from .event import Event
from .event_online_meeting import EventOnlineMeeting
from .free_busy import FreeBusy
from .free_busy_attendees_item import FreeBusyAttendeesItem
from .free_busy_attendees_item_busy_item import FreeBusyAttendeesItemBusyItem
from .free_busy_attendees_item_status import FreeBusyAttendeesItemStatus
from .free_busy_attendees_item_working_hours_type_1 import (
    FreeBusyAttendeesItemWorkingHoursType1,
)
from .free_busy_attendees_item_working_hours_type_1_days_item import (
    FreeBusyAttendeesItemWorkingHoursType1DaysItem,
)
from .free_busy_request import FreeBusyRequest
from .free_busy_status import FreeBusyStatus
from .get_open_api_response_200 import GetOpenApiResponse200
from .inline_attachment import InlineAttachment
from .item_body import ItemBody
from .link_booking import LinkBooking
from .link_booking_online_meeting_type_1 import LinkBookingOnlineMeetingType1
from .link_booking_online_meeting_type_2_type_1 import (
    LinkBookingOnlineMeetingType2Type1,
)
from .link_booking_online_meeting_type_3_type_1 import (
    LinkBookingOnlineMeetingType3Type1,
)
from .list_messages_folder import ListMessagesFolder
from .manage_form import ManageForm
from .manage_form_action import ManageFormAction
from .meeting_times import MeetingTimes
from .meeting_times_request import MeetingTimesRequest
from .meeting_times_slots_item import MeetingTimesSlotsItem
from .message import Message
from .message_folder import MessageFolder
from .message_list import MessageList
from .message_summary import MessageSummary
from .message_summary_folder import MessageSummaryFolder
from .notification_collection import NotificationCollection
from .outgoing_body_type_0 import OutgoingBodyType0
from .outgoing_body_type_0_content_type import OutgoingBodyType0ContentType
from .problem import Problem
from .problem_400 import Problem400
from .problem_400_status import Problem400Status
from .problem_400_type import Problem400Type
from .problem_401 import Problem401
from .problem_401_status import Problem401Status
from .problem_401_type import Problem401Type
from .problem_403 import Problem403
from .problem_403_status import Problem403Status
from .problem_403_type import Problem403Type
from .problem_404 import Problem404
from .problem_404_status import Problem404Status
from .problem_404_type import Problem404Type
from .problem_409 import Problem409
from .problem_409_status import Problem409Status
from .problem_409_type import Problem409Type
from .problem_410 import Problem410
from .problem_410_status import Problem410Status
from .problem_410_type import Problem410Type
from .problem_413 import Problem413
from .problem_413_status import Problem413Status
from .problem_413_type import Problem413Type
from .problem_422 import Problem422
from .problem_422_status import Problem422Status
from .problem_422_type import Problem422Type
from .problem_500 import Problem500
from .problem_500_status import Problem500Status
from .problem_500_type import Problem500Type
from .problem_503 import Problem503
from .problem_503_status import Problem503Status
from .problem_503_type import Problem503Type
from .problem_507 import Problem507
from .problem_507_status import Problem507Status
from .problem_507_type import Problem507Type
from .problem_type import ProblemType
from .recipient import Recipient
from .reply_request import ReplyRequest
from .reschedule_request import RescheduleRequest
from .scheduling_link import SchedulingLink
from .scheduling_link_created import SchedulingLinkCreated
from .scheduling_link_patch import SchedulingLinkPatch
from .scheduling_link_patch_candidate import SchedulingLinkPatchCandidate
from .scheduling_link_pools_item import SchedulingLinkPoolsItem
from .scheduling_link_request import SchedulingLinkRequest
from .scheduling_link_request_buffers import SchedulingLinkRequestBuffers
from .scheduling_link_request_candidate import SchedulingLinkRequestCandidate
from .scheduling_link_request_pools_item import SchedulingLinkRequestPoolsItem
from .scheduling_link_request_window import SchedulingLinkRequestWindow
from .scheduling_link_status import SchedulingLinkStatus
from .send_request import SendRequest
from .send_status import SendStatus
from .send_status_error import SendStatusError
from .send_status_status import SendStatusStatus
from .start_connection import StartConnection
from .start_connection_prompt_type_1 import StartConnectionPromptType1
from .start_connection_prompt_type_2_type_1 import StartConnectionPromptType2Type1
from .start_connection_prompt_type_3_type_1 import StartConnectionPromptType3Type1
from .tenant_access import TenantAccess
from .tenant_policy import TenantPolicy
from .tenant_policy_request import TenantPolicyRequest
from .upload_created import UploadCreated
from .upload_created_upload_headers import UploadCreatedUploadHeaders
from .upload_request import UploadRequest
from .uploaded_attachment import UploadedAttachment

__all__ = (
    "Address",
    "AdminConsentRequest",
    "AdminConsentStarted",
    "Attendee",
    "AttendeeType",
    "BookingForm",
    "BookingRequest",
    "CalendarAttendee",
    "CalendarAttendeeProposedNewTime",
    "CalendarAttendeeResponse",
    "CalendarEvent",
    "CalendarEventList",
    "CalendarEventType",
    "CallbackForm",
    "CancelRequest",
    "Capability",
    "ClaimRequest",
    "Claimed",
    "Connection",
    "ConnectionList",
    "ConnectionStarted",
    "ConnectionStatus",
    "CustomHeaders",
    "Event",
    "EventOnlineMeeting",
    "FreeBusy",
    "FreeBusyAttendeesItem",
    "FreeBusyAttendeesItemBusyItem",
    "FreeBusyAttendeesItemStatus",
    "FreeBusyAttendeesItemWorkingHoursType1",
    "FreeBusyAttendeesItemWorkingHoursType1DaysItem",
    "FreeBusyRequest",
    "FreeBusyStatus",
    "GetOpenApiResponse200",
    "InlineAttachment",
    "ItemBody",
    "LinkBooking",
    "LinkBookingOnlineMeetingType1",
    "LinkBookingOnlineMeetingType2Type1",
    "LinkBookingOnlineMeetingType3Type1",
    "ListMessagesFolder",
    "ManageForm",
    "ManageFormAction",
    "MeetingTimes",
    "MeetingTimesRequest",
    "MeetingTimesSlotsItem",
    "Message",
    "MessageFolder",
    "MessageList",
    "MessageSummary",
    "MessageSummaryFolder",
    "NotificationCollection",
    "OutgoingBodyType0",
    "OutgoingBodyType0ContentType",
    "Problem",
    "Problem400",
    "Problem400Status",
    "Problem400Type",
    "Problem401",
    "Problem401Status",
    "Problem401Type",
    "Problem403",
    "Problem403Status",
    "Problem403Type",
    "Problem404",
    "Problem404Status",
    "Problem404Type",
    "Problem409",
    "Problem409Status",
    "Problem409Type",
    "Problem410",
    "Problem410Status",
    "Problem410Type",
    "Problem413",
    "Problem413Status",
    "Problem413Type",
    "Problem422",
    "Problem422Status",
    "Problem422Type",
    "Problem500",
    "Problem500Status",
    "Problem500Type",
    "Problem503",
    "Problem503Status",
    "Problem503Type",
    "Problem507",
    "Problem507Status",
    "Problem507Type",
    "ProblemType",
    "Recipient",
    "ReplyRequest",
    "RescheduleRequest",
    "SchedulingLink",
    "SchedulingLinkCreated",
    "SchedulingLinkPatch",
    "SchedulingLinkPatchCandidate",
    "SchedulingLinkPoolsItem",
    "SchedulingLinkRequest",
    "SchedulingLinkRequestBuffers",
    "SchedulingLinkRequestCandidate",
    "SchedulingLinkRequestPoolsItem",
    "SchedulingLinkRequestWindow",
    "SchedulingLinkStatus",
    "SendRequest",
    "SendStatus",
    "SendStatusError",
    "SendStatusStatus",
    "StartConnection",
    "StartConnectionPromptType1",
    "StartConnectionPromptType2Type1",
    "StartConnectionPromptType3Type1",
    "TenantAccess",
    "TenantPolicy",
    "TenantPolicyRequest",
    "UploadCreated",
    "UploadCreatedUploadHeaders",
    "UploadRequest",
    "UploadedAttachment",
)
