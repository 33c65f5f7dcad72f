//! The directory audit log, `GET /auditLogs/directoryAudits`: one entry per change the write endpoints made, in the
//! shape Microsoft documents (`activityDateTime`, `activityDisplayName`, `category`, `loggedByService`,
//! `operationType`, `initiatedBy`, `targetResources`), newest first, `$filter` on `activityDateTime` (`ge`, `le`),
//! `loggedByService`, `category`, `activityDisplayName` and `id`, `$top` up to 999. Needs `AuditLog.Read.All` and
//! `Directory.Read.All`, as the service documents; the identity reports throttling tier applies.

use crate::auth::Caller;
use crate::graph::common::{Answer, perms, require, simple_list};
use crate::http::ApiRequest;
use crate::world::World;

/// `GET /auditLogs/directoryAudits`.
pub(crate) fn directory_audits(world: &World, caller: &Caller, req: &ApiRequest) -> Answer {
    require(caller, perms::SIGN_INS)?;
    require(caller, perms::DIRECTORY)?;
    let items = world.tenant.directory_audits.iter().rev().cloned().collect();
    simple_list(
        req,
        "auditLogs/directoryAudits",
        &[
            "id",
            "category",
            "correlationId",
            "result",
            "resultReason",
            "activityDisplayName",
            "activityDateTime",
            "loggedByService",
            "operationType",
            "initiatedBy",
            "targetResources",
            "additionalDetails",
        ],
        &["activityDateTime", "loggedByService", "category", "activityDisplayName", "id", "correlationId"],
        items,
    )
}
