//! wgpu on the OpenXR runtime's Vulkan instance and device (`XR_KHR_vulkan_enable2`).
//!
//! The order matters: the runtime's Vulkan requirements, then the extensions wgpu-hal wants, then
//! `xrCreateVulkanInstanceKHR`, wgpu-hal's instance from that raw instance, the physical device the
//! runtime names, wgpu-hal's adapter on it, `xrCreateVulkanDeviceKHR` with the extensions and
//! features wgpu-hal needs, wgpu-hal's device from that raw device, and finally wgpu's instance,
//! adapter and device from the hal objects. All `unsafe` of the crate lives here, at this boundary.
// The Vulkan / OpenXR boundary (see the workspace lint policy): each block says why it is sound.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char};

use ash::vk::{self, Handle};
use wgpu::hal;
use wgpu::hal::api::Vulkan as HalVulkan;

use crate::error::{XrError, XrResult};

/// The Vulkan version Sangam targets (1.2 makes wgpu emit SPIR-V 1.6, which then fails validation).
pub(crate) const VK_TARGET: u32 = vk::API_VERSION_1_3;

/// wgpu objects on the runtime's device, plus what `xrCreateSession` needs to know about it.
pub(crate) struct VkSetup {
    /// The wgpu instance (owns the runtime-created `VkInstance`); held so it outlives the session.
    pub _instance: wgpu::Instance,
    /// The adapter for the runtime's physical device; held with the instance.
    pub _adapter: wgpu::Adapter,
    /// The device (owns the runtime-created `VkDevice`).
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// The adapter's description.
    pub info: wgpu::AdapterInfo,
    /// Handles for the session's graphics binding.
    pub binding: openxr::vulkan::SessionCreateInfo,
}

fn vk_err(during: &'static str) -> impl Fn(String) -> XrError {
    move |details| XrError::Vulkan { during, details }
}

/// Creates wgpu on the runtime's Vulkan instance and device for `system`.
pub(crate) fn create(xr: &openxr::Instance, system: openxr::SystemId, runtime: &str) -> XrResult<VkSetup> {
    let reqs = xr
        .graphics_requirements::<openxr::Vulkan>(system)
        .map_err(|result| XrError::Call { call: "xrGetVulkanGraphicsRequirements2KHR", result })?;
    let target = openxr::Version::new(1, 3, 0);
    if target < reqs.min_api_version_supported || target.major() > reqs.max_api_version_supported.major() {
        return Err(XrError::Unsupported {
            runtime: runtime.into(),
            details: format!(
                "it supports Vulkan {} to {}, Sangam renders with Vulkan 1.3",
                reqs.min_api_version_supported, reqs.max_api_version_supported
            ),
        });
    }

    // SAFETY: loading the system Vulkan loader (libvulkan.so.1) runs its initialisers only; the
    // entry is kept alive by wgpu-hal for as long as any Vulkan object made from it.
    let entry = unsafe { ash::Entry::load() }.map_err(|e| XrError::Vulkan {
        during: "loading the Vulkan loader",
        details: format!(
            "{e}; install the Vulkan loader and a driver (Debian: `apt-get install libvulkan1 mesa-vulkan-drivers`)"
        ),
    })?;
    let flags = wgpu::InstanceFlags::empty();
    let extensions = <HalVulkan as hal::Api>::Instance::desired_extensions(&entry, VK_TARGET, flags)
        .map_err(|e| XrError::Vulkan { during: "listing Vulkan instance extensions", details: e.to_string() })?;
    let ext_ptrs: Vec<*const c_char> = extensions.iter().map(|e| e.as_ptr()).collect();
    let app_name = CString::new("Sangam").unwrap_or_default();
    let app_info = vk::ApplicationInfo::default()
        .application_name(&app_name)
        .application_version(1)
        .engine_name(&app_name)
        .engine_version(1)
        .api_version(VK_TARGET);
    let instance_info =
        vk::InstanceCreateInfo::default().application_info(&app_info).enabled_extension_names(&ext_ptrs);
    // SAFETY: both function pointer types are `extern "system" fn(instance handle, *const c_char)`
    // returning an optional function pointer; the handle types are the same pointer-sized handle.
    let gipa: openxr::sys::platform::VkGetInstanceProcAddr =
        unsafe { std::mem::transmute(entry.static_fn().get_instance_proc_addr) };
    // SAFETY: `instance_info` and everything it points to (names, extension list) live until the
    // call returns; the runtime creates the instance with `gipa` from the loaded entry.
    let raw_instance = unsafe { xr.create_vulkan_instance(system, gipa, &instance_info as *const _ as *const _) }
        .map_err(|result| XrError::Call { call: "xrCreateVulkanInstanceKHR", result })?
        .map_err(|r| XrError::Vulkan {
            during: "creating the Vulkan instance through the runtime",
            details: format!("{:?}", vk::Result::from_raw(r)),
        })?;
    // SAFETY: `raw_instance` is a live VkInstance just created from `entry`'s loader.
    let ash_instance = unsafe { ash::Instance::load(entry.static_fn(), vk::Instance::from_raw(raw_instance as u64)) };
    let destroy_instance = |i: &ash::Instance| {
        // SAFETY: called only on failure paths before wgpu-hal took ownership; nothing else uses it.
        unsafe { i.destroy_instance(None) }
    };

    // SAFETY: `raw_instance` is the instance the runtime created for this system.
    let phys = match unsafe { xr.vulkan_graphics_device(system, raw_instance) } {
        Ok(p) => vk::PhysicalDevice::from_raw(p as u64),
        Err(result) => {
            destroy_instance(&ash_instance);
            return Err(XrError::Call { call: "xrGetVulkanGraphicsDevice2KHR", result });
        }
    };
    // SAFETY: `phys` was enumerated from this instance by the runtime.
    let props = unsafe { ash_instance.get_physical_device_properties(phys) };
    if props.api_version < VK_TARGET {
        destroy_instance(&ash_instance);
        return Err(XrError::Unsupported {
            runtime: runtime.into(),
            details: format!(
                "its GPU supports Vulkan {}.{}, Sangam needs 1.3; update the GPU driver",
                vk::api_version_major(props.api_version),
                vk::api_version_minor(props.api_version)
            ),
        });
    }
    // SAFETY: as above; the queue family list is read into an owned Vec.
    let families = unsafe { ash_instance.get_physical_device_queue_family_properties(phys) };
    let Some(family) = families.iter().position(|f| f.queue_flags.contains(vk::QueueFlags::GRAPHICS)) else {
        destroy_instance(&ash_instance);
        return Err(vk_err("choosing a queue")("the runtime's GPU has no graphics queue".into()));
    };
    let family = family as u32;

    // SAFETY: `ash_instance` was created from `entry` with API version VK_TARGET and exactly
    // `extensions` (a superset of desired_extensions, being equal to it) and `flags`; with no drop
    // callback wgpu-hal owns it from here on and destroys it last.
    let hal_instance = unsafe {
        <HalVulkan as hal::Api>::Instance::from_raw(
            entry,
            ash_instance.clone(),
            VK_TARGET,
            0,
            None,
            extensions,
            flags,
            wgpu::MemoryBudgetThresholds::default(),
            false,
            None,
        )
    }
    .map_err(|e| XrError::Vulkan { during: "wrapping the runtime's Vulkan instance", details: e.to_string() })?;
    let Some(exposed) = hal_instance.expose_adapter(phys) else {
        return Err(vk_err("opening the runtime's GPU")("wgpu cannot use the GPU the runtime chose".into()));
    };
    // Timestamp queries (GPU frame time) when offered; they need no extra device extension.
    let features = exposed.features
        & (wgpu::Features::MULTIVIEW | wgpu::Features::MULTISAMPLE_ARRAY | wgpu::Features::TIMESTAMP_QUERY);
    let limits = exposed.capabilities.limits.clone();
    let device_exts: Vec<&'static CStr> = exposed.adapter.required_device_extensions(features);
    let device_ext_ptrs: Vec<*const c_char> = device_exts.iter().map(|e| e.as_ptr()).collect();
    let mut phd_features = exposed.adapter.physical_device_features(&device_exts, features);
    let priorities = [1.0f32];
    let queue_infos = [vk::DeviceQueueCreateInfo::default().queue_family_index(family).queue_priorities(&priorities)];
    let device_info = phd_features.add_to_device_create(
        vk::DeviceCreateInfo::default().queue_create_infos(&queue_infos).enabled_extension_names(&device_ext_ptrs),
    );
    // SAFETY: `device_info` and its feature chain live until the call returns; `phys` belongs to
    // the runtime's instance and `gipa` is the loader's entry point.
    let raw_device =
        unsafe { xr.create_vulkan_device(system, gipa, phys.as_raw() as _, &device_info as *const _ as *const _) }
            .map_err(|result| XrError::Call { call: "xrCreateVulkanDeviceKHR", result })?
            .map_err(|r| XrError::Vulkan {
                during: "creating the Vulkan device through the runtime",
                details: format!("{:?}", vk::Result::from_raw(r)),
            })?;
    // SAFETY: `raw_device` is a live VkDevice created on `phys` of this instance.
    let ash_device = unsafe { ash::Device::load(ash_instance.fp_v1_0(), vk::Device::from_raw(raw_device as u64)) };
    // SAFETY: the device was created from this adapter's physical device with queue family
    // `family`, `device_exts` and the features wgpu-hal computed for them; with no drop callback
    // wgpu-hal owns it and destroys it when the last wgpu object using it is gone.
    let open = unsafe {
        exposed.adapter.device_from_raw(
            ash_device,
            None,
            &device_exts,
            features,
            &limits,
            &wgpu::MemoryHints::Performance,
            family,
            0,
        )
    }
    .map_err(|e| XrError::Vulkan { during: "wrapping the runtime's Vulkan device", details: e.to_string() })?;

    // SAFETY: the hal instance is a Vulkan instance; wgpu takes it over.
    let instance = unsafe { wgpu::Instance::from_hal::<HalVulkan>(hal_instance) };
    // SAFETY: `exposed` was created from the hal instance now inside `instance`.
    let adapter = unsafe { instance.create_adapter_from_hal(exposed) };
    let info = adapter.get_info();
    let desc = wgpu::DeviceDescriptor {
        label: Some("sangam XR device"),
        required_features: features,
        required_limits: limits,
        experimental_features: wgpu::ExperimentalFeatures::disabled(),
        memory_hints: wgpu::MemoryHints::Performance,
        trace: wgpu::Trace::Off,
    };
    // SAFETY: `open` was created from this adapter's hal adapter with `features` and `limits`.
    let (device, queue) = unsafe { adapter.create_device_from_hal(open, &desc) }
        .map_err(|e| XrError::Vulkan { during: "creating the wgpu device", details: e.to_string() })?;
    tracing::info!(
        "OpenXR GPU: {} ({:?}, driver {} {}), queue family {family}, features {features:?}",
        info.name,
        info.device_type,
        info.driver,
        info.driver_info
    );
    let binding = openxr::vulkan::SessionCreateInfo {
        instance: raw_instance,
        physical_device: phys.as_raw() as _,
        device: raw_device,
        queue_family_index: family,
        queue_index: 0,
    };
    Ok(VkSetup { _instance: instance, _adapter: adapter, device, queue, info, binding })
}

/// The wgpu format for a Vulkan swapchain format Sangam can render into (sRGB 8-bit colour).
pub(crate) fn wgpu_format(format: u32) -> Option<wgpu::TextureFormat> {
    match vk::Format::from_raw(format as i32) {
        vk::Format::R8G8B8A8_SRGB => Some(wgpu::TextureFormat::Rgba8UnormSrgb),
        vk::Format::B8G8R8A8_SRGB => Some(wgpu::TextureFormat::Bgra8UnormSrgb),
        _ => None,
    }
}

/// A readable name for a Vulkan format number (for messages).
pub(crate) fn format_name(format: u32) -> String {
    format!("{:?}", vk::Format::from_raw(format as i32))
}

/// Wraps one runtime-owned swapchain image as a wgpu texture. The texture never frees the image
/// or its memory (the runtime owns both): it carries a no-op drop callback and external memory.
///
/// # Safety
///
/// `image` must be a live image of a swapchain created on `device`'s VkDevice with `format`,
/// `width` x `height`, `layers` array layers, one mip level, one sample, colour-attachment and
/// transfer source/destination usage, and must outlive the returned texture (drop the texture
/// before destroying the swapchain). The image must be in `COLOR_ATTACHMENT_OPTIMAL` layout
/// whenever wgpu uses it (true between `xrWaitSwapchainImage` and `xrReleaseSwapchainImage`).
pub(crate) unsafe fn wrap_swapchain_image(
    device: &wgpu::Device,
    image: u64,
    format: wgpu::TextureFormat,
    width: u32,
    height: u32,
    layers: u32,
) -> XrResult<wgpu::Texture> {
    let size = wgpu::Extent3d { width, height, depth_or_array_layers: layers };
    let hal_desc = hal::TextureDescriptor {
        label: Some("openxr swapchain image"),
        size,
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUses::COLOR_TARGET | wgpu::TextureUses::COPY_DST | wgpu::TextureUses::COPY_SRC,
        memory_flags: hal::MemoryFlags::empty(),
        view_formats: Vec::new(),
    };
    // SAFETY: only reads the hal device handle; `device` is a Vulkan device (we created it).
    let hal_device = unsafe { device.as_hal::<HalVulkan>() }
        .ok_or_else(|| vk_err("wrapping swapchain images")("the wgpu device is not a Vulkan device".into()))?;
    let no_op: hal::DropCallback = Box::new(|| {});
    // SAFETY: the caller guarantees `image` matches `hal_desc` and outlives the texture; the no-op
    // drop callback and external memory make wgpu-hal leave image and memory to the runtime.
    let hal_texture = unsafe {
        hal_device.texture_from_raw(
            vk::Image::from_raw(image),
            &hal_desc,
            Some(no_op),
            hal::vulkan::TextureMemory::External,
        )
    };
    drop(hal_device);
    let desc = wgpu::TextureDescriptor {
        label: Some("openxr swapchain image"),
        size,
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_DST | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    };
    // SAFETY: the hal texture was created on this device from `desc`'s twin; the runtime hands
    // images over in COLOR_ATTACHMENT_OPTIMAL, which is wgpu's COLOR_TARGET state.
    Ok(unsafe { device.create_texture_from_hal::<HalVulkan>(hal_texture, &desc, wgpu::TextureUses::COLOR_TARGET) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_srgb_8bit_formats_are_usable() {
        assert_eq!(wgpu_format(vk::Format::R8G8B8A8_SRGB.as_raw() as u32), Some(wgpu::TextureFormat::Rgba8UnormSrgb));
        assert_eq!(wgpu_format(vk::Format::B8G8R8A8_SRGB.as_raw() as u32), Some(wgpu::TextureFormat::Bgra8UnormSrgb));
        assert_eq!(wgpu_format(vk::Format::R8G8B8A8_UNORM.as_raw() as u32), None);
        assert_eq!(wgpu_format(vk::Format::R16G16B16A16_SFLOAT.as_raw() as u32), None);
        assert_eq!(format_name(vk::Format::B8G8R8A8_SRGB.as_raw() as u32), "B8G8R8A8_SRGB");
    }
}
