//! Directory objects as Graph renders them: the default property set, every selectable property with its default,
//! and projection by `$select`.

use serde_json::{Map, Value, json};

use crate::tenant::{Application, Group, ServicePrincipal, User};

/// One kind of directory object's property table.
pub(crate) struct Shape {
    /// Properties returned when the request has no `$select`.
    pub default_set: &'static [&'static str],
    /// Every property that can be selected (the default set included).
    pub selectable: &'static [&'static str],
    /// `#microsoft.graph.…` in mixed collections.
    pub odata_type: &'static str,
}

pub(crate) const USER: Shape = Shape {
    default_set: &[
        "businessPhones",
        "displayName",
        "givenName",
        "jobTitle",
        "mail",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "surname",
        "userPrincipalName",
        "id",
    ],
    selectable: &[
        "id",
        "businessPhones",
        "displayName",
        "givenName",
        "jobTitle",
        "mail",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "surname",
        "userPrincipalName",
        "accountEnabled",
        "userType",
        "onPremisesSyncEnabled",
        "onPremisesImmutableId",
        "onPremisesSecurityIdentifier",
        "onPremisesSamAccountName",
        "externalUserState",
        "createdDateTime",
        "creationType",
        "assignedLicenses",
        "department",
        "companyName",
        "employeeId",
        "employeeType",
        "mailNickname",
        "otherMails",
        "proxyAddresses",
        "usageLocation",
        "deletedDateTime",
        "signInActivity",
        "ageGroup",
        "assignedPlans",
        "authorizationInfo",
        "city",
        "consentProvidedForMinor",
        "country",
        "employeeHireDate",
        "employeeLeaveDateTime",
        "employeeOrgData",
        "externalUserStateChangeDateTime",
        "faxNumber",
        "identities",
        "imAddresses",
        "isResourceAccount",
        "lastPasswordChangeDateTime",
        "legalAgeGroupClassification",
        "licenseAssignmentStates",
        "onPremisesDistinguishedName",
        "onPremisesDomainName",
        "onPremisesExtensionAttributes",
        "onPremisesLastSyncDateTime",
        "onPremisesProvisioningErrors",
        "onPremisesUserPrincipalName",
        "passwordPolicies",
        "postalCode",
        "preferredDataLocation",
        "provisionedPlans",
        "refreshTokensValidFromDateTime",
        "securityIdentifier",
        "serviceProvisioningErrors",
        "showInAddressList",
        "signInSessionsValidFromDateTime",
        "state",
        "streetAddress",
    ],
    odata_type: "#microsoft.graph.user",
};

pub(crate) const GROUP: Shape = Shape {
    default_set: &[
        "id",
        "deletedDateTime",
        "classification",
        "createdDateTime",
        "description",
        "displayName",
        "expirationDateTime",
        "groupTypes",
        "isAssignableToRole",
        "mail",
        "mailEnabled",
        "mailNickname",
        "membershipRule",
        "membershipRuleProcessingState",
        "onPremisesLastSyncDateTime",
        "onPremisesSecurityIdentifier",
        "onPremisesSyncEnabled",
        "preferredDataLocation",
        "preferredLanguage",
        "proxyAddresses",
        "renewedDateTime",
        "resourceBehaviorOptions",
        "resourceProvisioningOptions",
        "securityEnabled",
        "securityIdentifier",
        "theme",
        "visibility",
        "onPremisesProvisioningErrors",
    ],
    selectable: &[
        "id",
        "deletedDateTime",
        "classification",
        "createdDateTime",
        "description",
        "displayName",
        "expirationDateTime",
        "groupTypes",
        "isAssignableToRole",
        "mail",
        "mailEnabled",
        "mailNickname",
        "membershipRule",
        "membershipRuleProcessingState",
        "onPremisesLastSyncDateTime",
        "onPremisesSecurityIdentifier",
        "onPremisesSyncEnabled",
        "preferredDataLocation",
        "preferredLanguage",
        "proxyAddresses",
        "renewedDateTime",
        "resourceBehaviorOptions",
        "resourceProvisioningOptions",
        "securityEnabled",
        "securityIdentifier",
        "theme",
        "visibility",
        "onPremisesProvisioningErrors",
        "isManagementRestricted",
    ],
    odata_type: "#microsoft.graph.group",
};

/// Every property of a service principal: Graph returns all of them without `$select`.
const SERVICE_PRINCIPAL_PROPS: &[&str] = &[
    "id",
    "deletedDateTime",
    "accountEnabled",
    "alternativeNames",
    "appDisplayName",
    "appDescription",
    "appId",
    "applicationTemplateId",
    "appOwnerOrganizationId",
    "appRoleAssignmentRequired",
    "description",
    "disabledByMicrosoftStatus",
    "displayName",
    "homepage",
    "loginUrl",
    "logoutUrl",
    "notes",
    "notificationEmailAddresses",
    "preferredSingleSignOnMode",
    "preferredTokenSigningKeyThumbprint",
    "publisherName",
    "replyUrls",
    "servicePrincipalNames",
    "servicePrincipalType",
    "signInAudience",
    "tags",
    "tokenEncryptionKeyId",
    "addIns",
    "appRoles",
    "info",
    "keyCredentials",
    "oauth2PermissionScopes",
    "passwordCredentials",
    "resourceSpecificApplicationPermissions",
    "verifiedPublisher",
];

pub(crate) const SERVICE_PRINCIPAL: Shape = Shape {
    default_set: SERVICE_PRINCIPAL_PROPS,
    selectable: SERVICE_PRINCIPAL_PROPS,
    odata_type: "#microsoft.graph.servicePrincipal",
};

/// Every property of an application: Graph returns all of them without `$select`.
const APPLICATION_PROPS: &[&str] = &[
    "id",
    "deletedDateTime",
    "appId",
    "createdDateTime",
    "displayName",
    "description",
    "publisherDomain",
    "signInAudience",
    "identifierUris",
    "tags",
    "keyCredentials",
    "passwordCredentials",
    "appRoles",
    "requiredResourceAccess",
    "web",
    "api",
    "info",
];

pub(crate) const APPLICATION: Shape =
    Shape { default_set: APPLICATION_PROPS, selectable: APPLICATION_PROPS, odata_type: "#microsoft.graph.application" };

/// The default value Graph shows for a property the object does not set.
pub(crate) fn default_of(prop: &str) -> Value {
    match prop {
        "businessPhones"
        | "assignedLicenses"
        | "otherMails"
        | "proxyAddresses"
        | "groupTypes"
        | "resourceBehaviorOptions"
        | "resourceProvisioningOptions"
        | "onPremisesProvisioningErrors"
        | "alternativeNames"
        | "notificationEmailAddresses"
        | "replyUrls"
        | "servicePrincipalNames"
        | "tags"
        | "addIns"
        | "appRoles"
        | "keyCredentials"
        | "oauth2PermissionScopes"
        | "passwordCredentials"
        | "resourceSpecificApplicationPermissions"
        | "identifierUris"
        | "requiredResourceAccess"
        | "assignedPlans"
        | "provisionedPlans"
        | "imAddresses"
        | "licenseAssignmentStates"
        | "serviceProvisioningErrors" => json!([]),
        "authorizationInfo" => json!({"certificateUserIds": []}),
        "onPremisesExtensionAttributes" => {
            Value::Object((1..=15).map(|n| (format!("extensionAttribute{n}"), Value::Null)).collect())
        }
        "info" => json!({
            "termsOfServiceUrl": null, "supportUrl": null, "privacyStatementUrl": null, "marketingUrl": null,
            "logoUrl": null
        }),
        "accountEnabled" | "mailEnabled" | "securityEnabled" | "appRoleAssignmentRequired" => json!(false),
        _ => Value::Null,
    }
}

/// A directory object the emulator can render: its id, its stored properties, and its shape.
pub(crate) trait DirectoryObject {
    fn id(&self) -> &str;
    fn props(&self) -> &Map<String, Value>;
    fn shape(&self) -> &'static Shape;

    /// A property as Graph would show it (stored value or default). Overridden for non-stored properties.
    fn get(&self, prop: &str) -> Value {
        if prop == "id" {
            return Value::String(self.id().to_owned());
        }
        self.props().get(prop).cloned().unwrap_or_else(|| default_of(prop))
    }

    /// The object's JSON: the selected properties (plus `id`), or the default set.
    fn render(&self, select: Option<&[String]>, with_type: bool) -> Map<String, Value> {
        let mut out = Map::new();
        if with_type {
            out.insert("@odata.type".to_owned(), Value::String(self.shape().odata_type.to_owned()));
        }
        match select {
            Some(fields) => {
                out.insert("id".to_owned(), Value::String(self.id().to_owned()));
                for f in fields {
                    out.insert(f.clone(), self.get(f));
                }
            }
            None => {
                for f in self.shape().default_set {
                    out.insert((*f).to_owned(), self.get(f));
                }
            }
        }
        out
    }
}

impl DirectoryObject for User {
    fn id(&self) -> &str {
        self.id.as_str()
    }
    fn props(&self) -> &Map<String, Value> {
        &self.props
    }
    fn shape(&self) -> &'static Shape {
        &USER
    }
    fn get(&self, prop: &str) -> Value {
        match prop {
            "id" => Value::String(self.id.to_string()),
            "securityIdentifier" if !self.props.contains_key(prop) => Value::String(cloud_sid(&self.id)),
            "identities" if !self.props.contains_key(prop) => self.identities(),
            "signInActivity" => self.sign_in_activity.clone().unwrap_or_else(|| {
                json!({
                    "lastSignInDateTime": null, "lastSignInRequestId": null,
                    "lastNonInteractiveSignInDateTime": null, "lastNonInteractiveSignInRequestId": null,
                    "lastSuccessfulSignInDateTime": null, "lastSuccessfulSignInRequestId": null
                })
            }),
            _ => self.props.get(prop).cloned().unwrap_or_else(|| default_of(prop)),
        }
    }
}

impl User {
    /// How the user signs in, as Graph shows it for a user created in the tenant or invited into it.
    fn identities(&self) -> Value {
        let upn = self.props.get("userPrincipalName").and_then(Value::as_str).unwrap_or_default();
        let issuer = upn.rsplit('@').next().unwrap_or_default();
        if self.props.get("userType").and_then(Value::as_str) == Some("Guest") {
            json!([{"signInType": "federated", "issuer": "ExternalAzureAD", "issuerAssignedId": null}])
        } else {
            json!([{"signInType": "userPrincipalName", "issuer": issuer, "issuerAssignedId": upn}])
        }
    }
}

/// The security identifier Entra gives a cloud object: `S-1-12-1-` and the object id's 16 bytes (in Microsoft's
/// GUID byte order) read as four little-endian 32-bit numbers.
fn cloud_sid(id: &crate::model::Guid) -> String {
    let hex: String = id.as_str().chars().filter(char::is_ascii_hexdigit).collect();
    let byte = |i: usize| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("00"), 16).unwrap_or(0);
    // Data1, Data2 and Data3 are stored little-endian; the last eight bytes as written.
    let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    let bytes: Vec<u8> = order.iter().map(|&i| byte(i)).collect();
    let parts: Vec<String> =
        bytes.chunks(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]).to_string()).collect();
    format!("S-1-12-1-{}", parts.join("-"))
}

impl DirectoryObject for Group {
    fn id(&self) -> &str {
        self.id.as_str()
    }
    fn props(&self) -> &Map<String, Value> {
        &self.props
    }
    fn shape(&self) -> &'static Shape {
        &GROUP
    }
}

impl DirectoryObject for ServicePrincipal {
    fn id(&self) -> &str {
        self.id.as_str()
    }
    fn props(&self) -> &Map<String, Value> {
        &self.props
    }
    fn shape(&self) -> &'static Shape {
        &SERVICE_PRINCIPAL
    }
    fn get(&self, prop: &str) -> Value {
        match prop {
            "id" => Value::String(self.id.to_string()),
            "appId" => Value::String(self.app_id.to_string()),
            _ => self.props.get(prop).cloned().unwrap_or_else(|| default_of(prop)),
        }
    }
}

impl DirectoryObject for Application {
    fn id(&self) -> &str {
        self.id.as_str()
    }
    fn props(&self) -> &Map<String, Value> {
        &self.props
    }
    fn shape(&self) -> &'static Shape {
        &APPLICATION
    }
    fn get(&self, prop: &str) -> Value {
        match prop {
            "id" => Value::String(self.id.to_string()),
            "appId" => Value::String(self.app_id.to_string()),
            _ => self.props.get(prop).cloned().unwrap_or_else(|| default_of(prop)),
        }
    }
}
