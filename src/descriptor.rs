//! The one place where hoist's three descriptor types meet: the meta
//! crate's (an image record's target), the image crate's (what documents
//! list, faithful to the JSON) and the registry client's (what a reference
//! resolves to). Conversions live here and nowhere else.

use hoist_image::Descriptor as ImageDescriptor;
use hoist_meta::Descriptor as MetaDescriptor;
use hoist_remote::Descriptor as RemoteDescriptor;

/// An image record's target as the image crate sees it.
pub(crate) fn from_meta(descriptor: &MetaDescriptor) -> ImageDescriptor {
    let mut out = ImageDescriptor::new(
        descriptor.media_type.clone(),
        descriptor.digest.clone(),
        descriptor.size,
    );
    out.annotations = descriptor.annotations.clone();
    out
}

/// The target to record for an image-crate descriptor (platform and unknown
/// fields are the index's business, not the record's).
pub(crate) fn to_meta(descriptor: &ImageDescriptor) -> MetaDescriptor {
    let mut out = MetaDescriptor::new(
        descriptor.media_type.clone(),
        descriptor.digest.clone(),
        descriptor.size,
    );
    out.annotations = descriptor.annotations.clone();
    out
}

/// What a registry resolved, as the image crate sees it.
pub(crate) fn from_remote(descriptor: &RemoteDescriptor) -> ImageDescriptor {
    ImageDescriptor::new(
        descriptor.media_type.clone(),
        descriptor.digest.clone(),
        descriptor.size,
    )
}
