//! The extension's global allocator: the system's, with its large blocks marked for transparent
//! huge pages.
//!
//! A batch's large buffers (its sorted candidate rows, a new segment's columns, a merge's
//! chunks) are fresh allocations every batch. The system allocator maps a block above its
//! threshold from the kernel and unmaps it when it is freed, so every 4 KiB page of each such
//! block faults on its first write: the PAN13 job took 4.06 million page faults and 22 s of
//! system time in 97 s of CPU. Marked with `madvise(MADV_HUGEPAGE)`, a block's 2 MiB pages fault
//! once each, where the kernel allows them (its `transparent_hugepage` setting `madvise` or
//! `always`; elsewhere the call changes nothing). numpy marks its own large arrays the same way.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks from this size on are marked (numpy's threshold for its arrays, 4 MiB): smaller ones
/// hold at most one huge page, and are usually reused from the allocator's heap.
pub const MARKED_BYTES: usize = 4 << 20;

/// The system allocator, marking blocks of [`MARKED_BYTES`] and more for huge pages.
pub struct HugePageAlloc;

// SAFETY: every block comes from the system allocator and goes back to it with the layout it was
// made with; marking a block's pages changes how the kernel backs them, not their contents.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        marked(System.alloc(layout), layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        marked(System.alloc_zeroed(layout), layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let block = System.realloc(ptr, layout, new_size);
        if new_size > layout.size() {
            marked(block, new_size)
        } else {
            block
        }
    }
}

/// `block` (of `size` bytes, or null), its whole pages marked for huge pages when it is large.
fn marked(block: *mut u8, size: usize) -> *mut u8 {
    if !block.is_null() && size >= MARKED_BYTES {
        advise(block as usize, size);
    }
    block
}

#[cfg(target_os = "linux")]
fn advise(start: usize, size: usize) {
    // glibc reads the page size from the process's auxiliary vector: no system call.
    // SAFETY: sysconf only reads a configuration value.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    if let Some((first, len)) = whole_pages(start, size, page) {
        // SAFETY: the range lies inside the block just allocated; the advice is a hint whose
        // failure (an older kernel, huge pages switched off) leaves the pages as they were.
        unsafe { libc::madvise(first as *mut libc::c_void, len, libc::MADV_HUGEPAGE) };
    }
}

/// Elsewhere the system's own policy stands.
#[cfg(not(target_os = "linux"))]
fn advise(_start: usize, _size: usize) {}

/// The start and length of the whole pages of size `page` inside `[start, start + size)`, if any.
pub fn whole_pages(start: usize, size: usize, page: usize) -> Option<(usize, usize)> {
    let first = start.checked_add(page - 1)? & !(page - 1);
    let end = start.checked_add(size)? & !(page - 1);
    (end > first).then(|| (first, end - first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_pages_lie_inside_the_block() {
        assert_eq!(whole_pages(4096, 8192, 4096), Some((4096, 8192)));
        assert_eq!(
            whole_pages(4096 + 16, 3 * 4096, 4096),
            Some((8192, 2 * 4096))
        );
        assert_eq!(whole_pages(4096 + 16, 4096, 4096), None);
        assert_eq!(whole_pages(usize::MAX - 10, 100, 4096), None);
    }

    #[test]
    fn large_blocks_keep_their_contents_through_growth() {
        let mut v: Vec<u64> = (0..(MARKED_BYTES / 8) as u64).collect();
        v.extend(0..(MARKED_BYTES / 8) as u64);
        assert_eq!(v.len(), MARKED_BYTES / 4);
        assert_eq!(v[MARKED_BYTES / 8 - 1], (MARKED_BYTES / 8 - 1) as u64);
        assert_eq!(v[MARKED_BYTES / 8], 0);
        let zeroed = vec![0u8; 3 * MARKED_BYTES];
        assert!(zeroed.iter().all(|&b| b == 0));
    }

    /// The flags of the mapping of this process that holds `address` (`/proc/self/smaps`).
    #[cfg(target_os = "linux")]
    fn mapping_flags(address: usize) -> String {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            let range = line.split_whitespace().next().unwrap_or("");
            if let Some((lo, hi)) = range.split_once('-') {
                if let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
                {
                    inside = lo <= address && address < hi;
                    continue;
                }
            }
            if inside {
                if let Some(flags) = line.strip_prefix("VmFlags:") {
                    return flags.to_string();
                }
            }
        }
        panic!("no mapping holds {address:#x}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn large_blocks_are_marked_for_huge_pages() {
        let large = vec![1u8; 8 * MARKED_BYTES];
        let middle = large.as_ptr() as usize + large.len() / 2;
        assert!(mapping_flags(middle).split_whitespace().any(|f| f == "hg"));
        let mut grown: Vec<u8> = Vec::with_capacity(1024);
        grown.resize(8 * MARKED_BYTES, 2);
        let middle = grown.as_ptr() as usize + grown.len() / 2;
        assert!(mapping_flags(middle).split_whitespace().any(|f| f == "hg"));
    }
}
