//! Publishing the start of the stream while the rest encodes: after each job
//! result, the HLS playlists of what plays so far (see
//! [`slicecast_assembler::progressive`]) are rewritten when it grew, and the
//! manifest records it (`playable`, `playable_after_ms`, `ready_until_s`),
//! and sprite sheets as they fill, with the thumbnails track over them
//! (`assets.sprites`, `assets.thumbnails_vtt`).
//! A failure here never fails the video: the final assembly checks and
//! writes everything again.

use slicecast_assembler::progressive::{ReadyPrefix, publish_prefix, ready_prefix};
use slicecast_assembler::sprites::{full_sheets, publish_full_sheets};
use slicecast_core::job::{AudioResult, SliceResult};
use slicecast_core::ladder::Rung;
use slicecast_core::manifest::Manifest;
use slicecast_core::plan::SlicePlan;
use slicecast_core::thumbs::SpriteLayout;
use slicecast_storage::BlobStore;
use tracing::{info, warn};

/// What the growing playlists are made of, and how far they reach.
pub(crate) struct EarlyPublisher<'a> {
    plan: &'a SlicePlan,
    rungs: &'a [Rung],
    frame_rate: f64,
    has_audio: bool,
    /// Off: nothing is published before the final assembly.
    enabled: bool,
    ready_until_s: f64,
    /// The sprite layout, when the plan has thumbnails.
    sprite: Option<SpriteLayout>,
    /// Full sheets published so far.
    sheets: u32,
}

impl<'a> EarlyPublisher<'a> {
    pub(crate) fn new(
        plan: &'a SlicePlan,
        rungs: &'a [Rung],
        frame_rate: f64,
        has_audio: bool,
        enabled: bool,
        sprite: SpriteLayout,
    ) -> Self {
        Self {
            plan,
            rungs,
            frame_rate,
            has_audio,
            enabled,
            ready_until_s: 0.0,
            sprite: (plan.thumb_count > 0).then_some(sprite),
            sheets: 0,
        }
    }

    /// Slices in the plan.
    pub(crate) fn slices_total(&self) -> u32 {
        self.plan.slices.len() as u32
    }

    /// Publishes what plays of `slices` and `audio` if it reaches further
    /// than before and the video is not about to be assembled anyway (some
    /// slice is still missing); returns the manifest, updated if it did.
    pub(crate) async fn update(
        &mut self,
        store: &dyn BlobStore,
        manifest: Manifest,
        slices: &[SliceResult],
        audio: &[AudioResult],
        now_ms: u64,
    ) -> Manifest {
        if !self.enabled || slices.len() >= self.plan.slices.len() {
            return manifest;
        }
        let id = manifest.video_id.clone();
        let ready = match ready_prefix(
            self.plan,
            self.rungs,
            self.frame_rate,
            slices,
            audio,
            self.has_audio,
        ) {
            Ok(Some(r)) if r.ready_until_s > self.ready_until_s + 1e-6 => r,
            Ok(_) => return manifest,
            Err(e) => {
                warn!(video.id = %id, error = %e, "not published early: the finished slices do not fit together yet");
                return manifest;
            }
        };
        match publish_prefix(store, &id, &ready).await {
            Ok(master) => {
                if !manifest.playable {
                    info!(video.id = %id, ready_until_s = ready.ready_until_s, "playable while encoding");
                }
                self.ready_until_s = ready.ready_until_s;
                let manifest = manifest.with_ready(ready.ready_until_s, master, now_ms);
                self.publish_sprites(store, manifest, &ready).await
            }
            Err(e) => {
                warn!(video.id = %id, error = %e, "publishing the start of the stream failed; it plays when complete");
                manifest
            }
        }
    }

    /// Publishes the sprite sheets that filled since last time (only thumbnails
    /// of what plays count); returns the manifest, with the sheets and the
    /// thumbnails track when it did.
    async fn publish_sprites(
        &mut self,
        store: &dyn BlobStore,
        mut manifest: Manifest,
        ready: &ReadyPrefix,
    ) -> Manifest {
        let Some(layout) = &self.sprite else {
            return manifest;
        };
        let playing = (ready.ready_until_s / layout.interval_s.max(1e-3)).ceil() as u32;
        let full = full_sheets(layout, ready.thumbs.min(playing));
        if full <= self.sheets {
            return manifest;
        }
        match publish_full_sheets(store, &manifest.video_id, layout, self.sheets, full).await {
            Ok((sheets, vtt)) => {
                self.sheets = full;
                manifest.assets.sprites = sheets;
                manifest.assets.thumbnails_vtt = Some(vtt);
            }
            Err(e) => {
                warn!(video.id = %manifest.video_id, error = %e, "publishing sprite sheets early failed; they come at the end");
            }
        }
        manifest
    }
}
