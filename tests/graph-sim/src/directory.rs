//! The seeded directory: the tenants, their consent settings, their users and what kind of
//! mailbox each user has. Fixed GUIDs so tests and the README can name them.

/// Tenant id of `contoso.example` (Microsoft's managed default consent policy).
pub const CONTOSO_TENANT_ID: &str = "6f4d2c1a-3b5e-4c7d-8e9f-0a1b2c3d4e5f";
/// Tenant id of `fabrikam.example` (user consent disabled; needs admin consent).
pub const FABRIKAM_TENANT_ID: &str = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d";
/// Tenant id of `northwind.example` (assignment required, admin consent workflow).
pub const NORTHWIND_TENANT_ID: &str = "4e0a7b1c-2d3f-4a5b-8c6d-7e8f9a0b1c2d";
/// Tenant id of `tailspin.example` (Entra ID only: no Exchange Online).
pub const TAILSPIN_TENANT_ID: &str = "7b2c9d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e";
/// The default client id of the one registered app.
pub const DEFAULT_CLIENT_ID: &str = "3c1e5a7b-9d2f-4e6a-8b0c-1d3f5a7b9c2e";
/// The default client secret of the one registered app (dev only).
pub const DEFAULT_CLIENT_SECRET: &str = "sim~dev-client-secret.0123456789abcdef";
/// Display name of the registered app, shown on the consent page.
pub const APP_NAME: &str = "M365 Connector (simulated registration)";

/// Where a user's mailbox lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxKind {
    /// Exchange Online: mail and calendar calls work.
    Online,
    /// On premises (hybrid): every mail/calendar call fails with 404
    /// `MailboxNotEnabledForRESTAPI`.
    NotEnabled,
    /// A cloud user without an Exchange Online licence: Graph answers mail/calendar calls as for
    /// an inactive mailbox (404 `MailboxNotEnabledForRESTAPI`); `/me` has no `mail`.
    Unlicensed,
    /// The user's tenant has no Exchange Online at all: every mail/calendar call fails with 401
    /// `OrganizationFromTenantGuidNotFound`.
    NoExchangeTenant,
}

/// What the tenant's user consent setting allows ("Consent and permissions" in Entra).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserConsent {
    /// "Let Microsoft manage your consent settings", the default: users may consent to low-risk
    /// permissions, but not to Outlook mail and calendar permissions (`Mail.*`, `Calendars.*`,
    /// `MailboxSettings.*`), nor to anything else this app asks beyond `User.Read`.
    MicrosoftManaged,
    /// "Allow user consent for apps": users may consent to any delegated permission.
    Allowed,
    /// "Do not allow user consent": only an administrator can consent.
    Disabled,
}

impl UserConsent {
    pub fn as_str(self) -> &'static str {
        match self {
            UserConsent::MicrosoftManaged => "microsoftManaged",
            UserConsent::Allowed => "allowed",
            UserConsent::Disabled => "disabled",
        }
    }

    pub fn parse(raw: &str) -> Option<UserConsent> {
        [
            UserConsent::MicrosoftManaged,
            UserConsent::Allowed,
            UserConsent::Disabled,
        ]
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(raw))
    }

    /// Whether a (non-admin) user may consent to `permission` under this setting.
    pub fn user_may_consent(self, permission: &str) -> bool {
        match self {
            UserConsent::Allowed => true,
            UserConsent::Disabled => false,
            UserConsent::MicrosoftManaged => !["Mail.", "Calendars.", "MailboxSettings."]
                .iter()
                .any(|prefix| permission.starts_with(prefix)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: &'static str,
    /// The tenant's custom verified domain (its users' addresses).
    pub domain: &'static str,
    /// The `*.onmicrosoft.com` domain Microsoft gives every tenant when it is created.
    pub initial_domain: &'static str,
    pub display_name: &'static str,
    /// The user consent setting the tenant starts with (the control API can change it).
    pub user_consent: UserConsent,
    /// The admin consent workflow is on: a blocked user sees "Approval required" (AADSTS90095)
    /// instead of "Need admin approval" (AADSTS90094).
    pub admin_consent_workflow: bool,
    /// "Assignment required?" is on for the app's enterprise application: only `assigned` users
    /// may sign in (others get AADSTS50105).
    pub assignment_required: bool,
    /// UPNs of the users assigned to the app (read only when `assignment_required`).
    pub assigned: &'static [&'static str],
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: &'static str,
    pub tenant_id: &'static str,
    pub upn: &'static str,
    pub display_name: &'static str,
    pub given_name: &'static str,
    pub surname: &'static str,
    pub job_title: &'static str,
    pub mailbox: MailboxKind,
    pub is_admin: bool,
    /// IANA zone of the mailbox (working hours, calendar).
    pub time_zone: &'static str,
}

pub const TENANTS: &[Tenant] = &[
    Tenant {
        id: CONTOSO_TENANT_ID,
        domain: "contoso.example",
        initial_domain: "contoso.onmicrosoft.com",
        display_name: "Contoso",
        user_consent: UserConsent::MicrosoftManaged,
        admin_consent_workflow: false,
        assignment_required: false,
        assigned: &[],
    },
    Tenant {
        id: FABRIKAM_TENANT_ID,
        domain: "fabrikam.example",
        initial_domain: "fabrikam.onmicrosoft.com",
        display_name: "Fabrikam",
        user_consent: UserConsent::Disabled,
        admin_consent_workflow: false,
        assignment_required: false,
        assigned: &[],
    },
    Tenant {
        id: NORTHWIND_TENANT_ID,
        domain: "northwind.example",
        initial_domain: "northwind.onmicrosoft.com",
        display_name: "Northwind Traders",
        user_consent: UserConsent::MicrosoftManaged,
        admin_consent_workflow: true,
        assignment_required: true,
        assigned: &["nora@northwind.example", "admin@northwind.example"],
    },
    Tenant {
        id: TAILSPIN_TENANT_ID,
        domain: "tailspin.example",
        initial_domain: "tailspin.onmicrosoft.com",
        display_name: "Tailspin Toys",
        user_consent: UserConsent::Allowed,
        admin_consent_workflow: false,
        assignment_required: false,
        assigned: &[],
    },
];

pub const USERS: &[User] = &[
    User {
        id: "a11ce000-0000-4000-8000-00000000a11c",
        tenant_id: CONTOSO_TENANT_ID,
        upn: "alice@contoso.example",
        display_name: "Alice Archer",
        given_name: "Alice",
        surname: "Archer",
        job_title: "Recruiter",
        mailbox: MailboxKind::Online,
        is_admin: false,
        time_zone: "Europe/Berlin",
    },
    User {
        id: "b0b00000-0000-4000-8000-000000000b0b",
        tenant_id: CONTOSO_TENANT_ID,
        upn: "bob@contoso.example",
        display_name: "Bob Baker",
        given_name: "Bob",
        surname: "Baker",
        job_title: "Engineer",
        mailbox: MailboxKind::Online,
        is_admin: false,
        time_zone: "America/New_York",
    },
    User {
        id: "ca401000-0000-4000-8000-0000000ca401",
        tenant_id: CONTOSO_TENANT_ID,
        upn: "carol@contoso.example",
        display_name: "Carol Chen",
        given_name: "Carol",
        surname: "Chen",
        job_title: "Engineer",
        mailbox: MailboxKind::Online,
        is_admin: false,
        time_zone: "Asia/Kolkata",
    },
    User {
        id: "da4e0000-0000-4000-8000-00000000da4e",
        tenant_id: CONTOSO_TENANT_ID,
        upn: "dave@contoso.example",
        display_name: "Dave Doyle",
        given_name: "Dave",
        surname: "Doyle",
        job_title: "Engineer",
        mailbox: MailboxKind::NotEnabled,
        is_admin: false,
        time_zone: "Europe/London",
    },
    User {
        id: "ad000000-0000-4000-8000-0000000c0ad0",
        tenant_id: CONTOSO_TENANT_ID,
        upn: "admin@contoso.example",
        display_name: "Contoso Administrator",
        given_name: "Contoso",
        surname: "Administrator",
        job_title: "IT Administrator",
        mailbox: MailboxKind::Online,
        is_admin: true,
        time_zone: "Europe/Berlin",
    },
    User {
        id: "f4a0c000-0000-4000-8000-00000000f4a0",
        tenant_id: CONTOSO_TENANT_ID,
        upn: "frank@contoso.example",
        display_name: "Frank Foster",
        given_name: "Frank",
        surname: "Foster",
        job_title: "Recruiter",
        mailbox: MailboxKind::Online,
        is_admin: false,
        time_zone: "Europe/Berlin",
    },
    User {
        id: "94ace000-0000-4000-8000-0000000094ac",
        tenant_id: CONTOSO_TENANT_ID,
        upn: "grace@contoso.example",
        display_name: "Grace Garcia",
        given_name: "Grace",
        surname: "Garcia",
        job_title: "Engineer",
        mailbox: MailboxKind::Online,
        is_admin: false,
        time_zone: "America/Los_Angeles",
    },
    User {
        id: "e4100000-0000-4000-8000-000000000e41",
        tenant_id: FABRIKAM_TENANT_ID,
        upn: "erin@fabrikam.example",
        display_name: "Erin Evans",
        given_name: "Erin",
        surname: "Evans",
        job_title: "Recruiter",
        mailbox: MailboxKind::Online,
        is_admin: false,
        time_zone: "Europe/Berlin",
    },
    User {
        id: "ad000000-0000-4000-8000-0000000fad00",
        tenant_id: FABRIKAM_TENANT_ID,
        upn: "admin@fabrikam.example",
        display_name: "Fabrikam Administrator",
        given_name: "Fabrikam",
        surname: "Administrator",
        job_title: "IT Administrator",
        mailbox: MailboxKind::Online,
        is_admin: true,
        time_zone: "Europe/Berlin",
    },
    User {
        id: "f4a4c000-0000-4000-8000-00000000f4a4",
        tenant_id: CONTOSO_TENANT_ID,
        upn: "uma@contoso.example",
        display_name: "Uma Fischer",
        given_name: "Uma",
        surname: "Fischer",
        job_title: "Contractor",
        mailbox: MailboxKind::Unlicensed,
        is_admin: false,
        time_zone: "Europe/Berlin",
    },
    User {
        id: "4a4a0000-0000-4000-8000-000000004a4a",
        tenant_id: NORTHWIND_TENANT_ID,
        upn: "nora@northwind.example",
        display_name: "Nora Novak",
        given_name: "Nora",
        surname: "Novak",
        job_title: "Recruiter",
        mailbox: MailboxKind::Online,
        is_admin: false,
        time_zone: "Europe/Berlin",
    },
    User {
        id: "05ca4000-0000-4000-8000-0000000005ca",
        tenant_id: NORTHWIND_TENANT_ID,
        upn: "oscar@northwind.example",
        display_name: "Oscar Olsen",
        given_name: "Oscar",
        surname: "Olsen",
        job_title: "Recruiter",
        mailbox: MailboxKind::Online,
        is_admin: false,
        time_zone: "Europe/Berlin",
    },
    User {
        id: "ad000000-0000-4000-8000-0000000a0ad0",
        tenant_id: NORTHWIND_TENANT_ID,
        upn: "admin@northwind.example",
        display_name: "Northwind Administrator",
        given_name: "Northwind",
        surname: "Administrator",
        job_title: "IT Administrator",
        mailbox: MailboxKind::Online,
        is_admin: true,
        time_zone: "Europe/Berlin",
    },
    User {
        id: "70a00000-0000-4000-8000-0000000070a0",
        tenant_id: TAILSPIN_TENANT_ID,
        upn: "tom@tailspin.example",
        display_name: "Tom Tanaka",
        given_name: "Tom",
        surname: "Tanaka",
        job_title: "Recruiter",
        mailbox: MailboxKind::NoExchangeTenant,
        is_admin: false,
        time_zone: "Asia/Tokyo",
    },
];

/// A tenant by GUID or either of its domains (case-insensitive).
pub fn tenant(key: &str) -> Option<&'static Tenant> {
    TENANTS.iter().find(|t| {
        [t.id, t.domain, t.initial_domain]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(key))
    })
}

/// A user by object id or UPN/mail address (case-insensitive).
pub fn user(key: &str) -> Option<&'static User> {
    USERS
        .iter()
        .find(|u| u.id.eq_ignore_ascii_case(key) || u.upn.eq_ignore_ascii_case(key))
}

pub fn user_by_id(id: &str) -> Option<&'static User> {
    USERS.iter().find(|u| u.id == id)
}
