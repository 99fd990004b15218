//! Server reflection (v1, and v1alpha for older grpcurl) that serves every file descriptor byte
//! for byte as build.rs encoded it. tonic-reflection decodes descriptors into `prost_types` and
//! encodes them again, which drops every option extension: `google.api.http` rules and
//! `yandex.cloud.api.operation` options vanished from what clients saw. Here the descriptors are
//! only read to index their names; what goes out is the original encoding.

use std::collections::HashMap;
use std::sync::Arc;

use prost::Message;
use prost_types::{DescriptorProto, FileDescriptorProto};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};
use tonic_reflection::pb::{v1, v1alpha};

/// A descriptor set as it is on the wire: each file's own bytes, not decoded.
#[derive(Clone, PartialEq, Message)]
struct RawDescriptorSet {
    #[prost(bytes = "vec", repeated, tag = "1")]
    file: Vec<Vec<u8>>,
}

/// Files by name, and where each symbol and extension is defined.
#[derive(Debug, Default)]
pub struct DescriptorIndex {
    files: HashMap<String, Arc<[u8]>>,
    dependencies: HashMap<String, Vec<String>>,
    symbols: HashMap<String, String>,
    extensions: HashMap<(String, i32), String>,
    services: Vec<String>,
}

impl DescriptorIndex {
    /// Indexes encoded descriptor sets; a file in more than one set is kept from the first.
    pub fn new(sets: &[&[u8]]) -> Result<DescriptorIndex, String> {
        let mut index = DescriptorIndex::default();
        for set in sets {
            let raw = RawDescriptorSet::decode(*set).map_err(|e| format!("descriptor set: {e}"))?;
            for bytes in raw.file {
                let file = FileDescriptorProto::decode(bytes.as_slice()).map_err(|e| format!("file descriptor: {e}"))?;
                index.add(file, bytes);
            }
        }
        Ok(index)
    }

    fn add(&mut self, file: FileDescriptorProto, bytes: Vec<u8>) {
        let name = file.name().to_string();
        if self.files.contains_key(&name) {
            return;
        }
        let package = file.package();
        let qualified = |n: &str| if package.is_empty() { n.to_string() } else { format!("{package}.{n}") };
        for message in &file.message_type {
            self.add_message(&name, &qualified(message.name()), message);
        }
        for e in &file.enum_type {
            self.symbols.insert(qualified(e.name()), name.clone());
        }
        for service in &file.service {
            let full = qualified(service.name());
            for method in &service.method {
                self.symbols.insert(format!("{full}.{}", method.name()), name.clone());
            }
            self.symbols.insert(full.clone(), name.clone());
            self.services.push(full);
        }
        for extension in &file.extension {
            self.symbols.insert(qualified(extension.name()), name.clone());
            let extendee = extension.extendee().trim_start_matches('.').to_string();
            self.extensions.insert((extendee, extension.number()), name.clone());
        }
        self.dependencies.insert(name.clone(), file.dependency.clone());
        self.files.insert(name, bytes.into());
    }

    fn add_message(&mut self, file: &str, full: &str, message: &DescriptorProto) {
        self.symbols.insert(full.to_string(), file.to_string());
        for nested in &message.nested_type {
            self.add_message(file, &format!("{full}.{}", nested.name()), nested);
        }
        for e in &message.enum_type {
            self.symbols.insert(format!("{full}.{}", e.name()), file.to_string());
        }
        for extension in &message.extension {
            self.symbols.insert(format!("{full}.{}", extension.name()), file.to_string());
            let extendee = extension.extendee().trim_start_matches('.').to_string();
            self.extensions.insert((extendee, extension.number()), file.to_string());
        }
    }

    /// The services of every registered file.
    pub fn services(&self) -> &[String] {
        &self.services
    }

    /// The file `name` with every file it imports, each once, the file first (as grpc-go's
    /// server answers), encoded as it was built.
    pub fn file_with_dependencies(&self, name: &str) -> Option<Vec<Vec<u8>>> {
        self.files.get(name)?;
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut pending = vec![name.to_string()];
        while let Some(next) = pending.pop() {
            if !seen.insert(next.clone()) {
                continue;
            }
            if let Some(bytes) = self.files.get(&next) {
                out.push(bytes.to_vec());
                pending.extend(self.dependencies.get(&next).into_iter().flatten().rev().cloned());
            }
        }
        Some(out)
    }

    fn file_of_symbol(&self, symbol: &str) -> Option<&str> {
        self.symbols.get(symbol.trim_start_matches('.')).map(String::as_str)
    }

    fn extension_numbers(&self, extendee: &str) -> Option<Vec<i32>> {
        self.symbols.get(extendee)?;
        let mut numbers: Vec<i32> = self.extensions.keys().filter(|(of, _)| of == extendee).map(|(_, n)| *n).collect();
        numbers.sort_unstable();
        Some(numbers)
    }
}

/// What one reflection request asks, whatever the version.
enum Ask {
    File(String),
    Symbol(String),
    Extension(String, i32),
    ExtensionNumbers(String),
    Services,
}

/// Its answer.
enum Answer {
    Files(Vec<Vec<u8>>),
    ExtensionNumbers(String, Vec<i32>),
    Services(Vec<String>),
    Error(tonic::Code, String),
}

fn answer(index: &DescriptorIndex, ask: Ask) -> Answer {
    let not_found = |what: String| Answer::Error(tonic::Code::NotFound, what);
    match ask {
        Ask::File(name) => index.file_with_dependencies(&name).map_or_else(|| not_found(format!("file {name} not found")), Answer::Files),
        Ask::Symbol(symbol) => match index.file_of_symbol(&symbol).and_then(|f| index.file_with_dependencies(f)) {
            Some(files) => Answer::Files(files),
            None => not_found(format!("symbol {symbol} not found")),
        },
        Ask::Extension(extendee, number) => {
            match index.extensions.get(&(extendee.clone(), number)).and_then(|f| index.file_with_dependencies(f)) {
                Some(files) => Answer::Files(files),
                None => not_found(format!("extension {number} of {extendee} not found")),
            }
        }
        Ask::ExtensionNumbers(extendee) => match index.extension_numbers(&extendee) {
            Some(numbers) => Answer::ExtensionNumbers(extendee, numbers),
            None => not_found(format!("type {extendee} not found")),
        },
        Ask::Services => Answer::Services(index.services().to_vec()),
    }
}

type Replies<T> = std::pin::Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// Reflection v1 and v1alpha over one index.
#[derive(Clone)]
pub struct Reflection {
    index: Arc<DescriptorIndex>,
}

impl Reflection {
    pub fn new(index: Arc<DescriptorIndex>) -> Reflection {
        Reflection { index }
    }

    /// Reflection over everything netplane serves: our descriptor set, health and reflection
    /// itself; the index is built once, on the first reflection call of either version.
    pub fn served() -> Result<Reflection, String> {
        static INDEX: std::sync::OnceLock<Result<Arc<DescriptorIndex>, String>> = std::sync::OnceLock::new();
        let index = INDEX.get_or_init(|| {
            DescriptorIndex::new(&[
                crate::proto::FILE_DESCRIPTOR_SET,
                tonic_health::pb::FILE_DESCRIPTOR_SET,
                v1::FILE_DESCRIPTOR_SET,
                v1alpha::FILE_DESCRIPTOR_SET,
            ])
            .map(Arc::new)
        });
        index.clone().map(Reflection::new)
    }

    /// Answers each request of the stream in turn, as it comes.
    fn replies<Q, A>(&self, requests: Streaming<Q>, respond: fn(&DescriptorIndex, Q) -> A) -> Replies<A>
    where
        Q: Send + 'static,
        A: Send + 'static,
    {
        let index = self.index.clone();
        Box::pin(requests.map(move |request| request.map(|q| respond(&index, q))))
    }
}

macro_rules! reflection_version {
    ($version:ident, $respond:ident) => {
        fn $respond(index: &DescriptorIndex, request: $version::ServerReflectionRequest) -> $version::ServerReflectionResponse {
            use $version::server_reflection_request::MessageRequest as Q;
            use $version::server_reflection_response::MessageResponse as R;
            let ask = match request.message_request.clone() {
                Some(Q::FileByFilename(name)) => Some(Ask::File(name)),
                Some(Q::FileContainingSymbol(symbol)) => Some(Ask::Symbol(symbol)),
                Some(Q::FileContainingExtension(e)) => Some(Ask::Extension(e.containing_type, e.extension_number)),
                Some(Q::AllExtensionNumbersOfType(extendee)) => Some(Ask::ExtensionNumbers(extendee)),
                Some(Q::ListServices(_)) => Some(Ask::Services),
                None => None,
            };
            let answered = match ask {
                Some(ask) => answer(index, ask),
                None => Answer::Error(tonic::Code::InvalidArgument, "the request asks nothing".into()),
            };
            let message_response = match answered {
                Answer::Files(file_descriptor_proto) => {
                    R::FileDescriptorResponse($version::FileDescriptorResponse { file_descriptor_proto })
                }
                Answer::ExtensionNumbers(base_type_name, extension_number) => {
                    R::AllExtensionNumbersResponse($version::ExtensionNumberResponse { base_type_name, extension_number })
                }
                Answer::Services(names) => R::ListServicesResponse($version::ListServiceResponse {
                    service: names.into_iter().map(|name| $version::ServiceResponse { name }).collect(),
                }),
                Answer::Error(code, error_message) => R::ErrorResponse($version::ErrorResponse { error_code: code as i32, error_message }),
            };
            $version::ServerReflectionResponse {
                valid_host: request.host.clone(),
                original_request: Some(request),
                message_response: Some(message_response),
            }
        }

        #[tonic::async_trait]
        impl $version::server_reflection_server::ServerReflection for Reflection {
            type ServerReflectionInfoStream = Replies<$version::ServerReflectionResponse>;

            async fn server_reflection_info(
                &self,
                request: Request<Streaming<$version::ServerReflectionRequest>>,
            ) -> Result<Response<Self::ServerReflectionInfoStream>, Status> {
                Ok(Response::new(self.replies(request.into_inner(), $respond)))
            }
        }
    };
}

reflection_version!(v1, respond_v1);
reflection_version!(v1alpha, respond_v1alpha);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::FILE_DESCRIPTOR_SET;

    fn index() -> DescriptorIndex {
        DescriptorIndex::new(&[FILE_DESCRIPTOR_SET, tonic_health::pb::FILE_DESCRIPTOR_SET]).unwrap()
    }

    #[test]
    fn files_are_served_as_they_were_encoded() {
        let index = index();
        let raw = RawDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap();
        for bytes in &raw.file {
            let name = FileDescriptorProto::decode(bytes.as_slice()).unwrap().name().to_string();
            assert_eq!(&index.file_with_dependencies(&name).unwrap()[0], bytes, "{name}");
        }
    }

    #[test]
    fn symbols_services_methods_and_extensions_are_found() {
        let index = index();
        let file = |s: &str| index.file_of_symbol(s).map(str::to_string);
        assert_eq!(file("yandex.cloud.compute.v1.InstanceService").as_deref(), Some("yandex/cloud/compute/v1/instance_service.proto"));
        assert_eq!(
            file(".yandex.cloud.compute.v1.InstanceService.AttachNetworkInterface"),
            file("yandex.cloud.compute.v1.InstanceService")
        );
        assert!(file("yandex.cloud.compute.v1.Instance").is_some());
        assert!(file("grpc.health.v1.Health").is_some());
        assert!(file("nope.Nothing").is_none());
        let numbers = index.extension_numbers("google.protobuf.MethodOptions").unwrap();
        assert!(numbers.contains(&72295728), "google.api.http: {numbers:?}");
        assert!(index.services().iter().any(|s| s == "yandex.cloud.vpc.v1.NetworkService"));
    }

    #[test]
    fn a_file_comes_with_its_dependencies_once() {
        let files = index().file_with_dependencies("yandex/cloud/compute/v1/instance_service.proto").unwrap();
        let names: Vec<String> = files.iter().map(|b| FileDescriptorProto::decode(b.as_slice()).unwrap().name().to_string()).collect();
        assert_eq!(names[0], "yandex/cloud/compute/v1/instance_service.proto");
        assert!(names.contains(&"google/api/annotations.proto".to_string()));
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
    }
}
