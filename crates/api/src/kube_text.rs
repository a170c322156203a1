//! Kubernetes errors in words: the API server's message with the causes it listed, or why it
//! could not be asked. The REST API's error answers and the output of installation jobs both use
//! it, so a failure reads the same in a job's output as in an error response.

/// What went wrong, as the API server said it (with the causes it listed), or why it could not
/// be asked.
pub fn describe(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => {
            let mut message = if status.message.is_empty() {
                fallback_message(status.code, &status.reason)
            } else {
                status.message.clone()
            };
            let causes: Vec<String> = status
                .details
                .as_ref()
                .map(|d| {
                    d.causes
                        .iter()
                        .map(|c| match (c.field.is_empty(), c.message.is_empty()) {
                            (false, false) => format!("{}: {}", c.field, c.message),
                            (true, false) => c.message.clone(),
                            _ => c.reason.clone(),
                        })
                        .filter(|c| !c.is_empty() && !message.contains(c.as_str()))
                        .collect()
                })
                .unwrap_or_default();
            if !causes.is_empty() {
                message = format!("{message} Details: {}", causes.join("; "));
            }
            message
        }
        kube::Error::HyperError(_)
        | kube::Error::Service(_)
        | kube::Error::HttpError(_)
        | kube::Error::ReadEvents(_) => {
            format!("the Kubernetes API server is unreachable ({err})")
        }
        kube::Error::Auth(_) => format!("could not authenticate to Kubernetes: {err}"),
        other => other.to_string(),
    }
}

fn fallback_message(code: u16, reason: &str) -> String {
    match reason {
        "Forbidden" => "You do not have permission to perform this action.".into(),
        "NotFound" => "The requested resource was not found.".into(),
        "AlreadyExists" => "A resource with this name already exists.".into(),
        "Invalid" => "The request is invalid.".into(),
        "Conflict" => "The resource was modified concurrently; retry.".into(),
        "Unauthorized" => "Authentication is required.".into(),
        // The server answers 500 for codes that are not errors.
        _ if !(400..600).contains(&code) => "Request failed with status 500".into(),
        _ => format!("Request failed with status {code}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    #[test]
    fn causes_are_listed_and_empty_messages_get_a_sentence() {
        let status: Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "code": 422, "reason": "Invalid",
            "message": "CustomResourceDefinition \"x\" is invalid",
            "details": { "causes": [ { "field": "spec.names", "message": "Required value", "reason": "FieldValueRequired" } ] }
        }))
        .expect("status");
        assert_eq!(
            describe(&kube::Error::Api(Box::new(status))),
            "CustomResourceDefinition \"x\" is invalid Details: spec.names: Required value"
        );
        let status: Status = serde_json::from_value(
            serde_json::json!({ "status": "Failure", "code": 403, "reason": "Forbidden" }),
        )
        .expect("status");
        assert!(describe(&kube::Error::Api(Box::new(status))).contains("permission"));
    }
}
