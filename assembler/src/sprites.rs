//! Thumbnail sprite sheets: the thumbnails the slices stored under `work/`
//! tiled into `thumbnail/sprite_<i>.jpg` (see [`slicecast_core::thumbs`] for
//! the layout and the WebVTT track). A sheet is made from the same
//! thumbnails with the same options however often it is made, so one
//! published while the video encodes is the sheet the final assembly writes
//! (sheets are served as immutable).

use crate::{AssembleError, SpriteSettings, ffmpeg, ffmpeg_prelude, os};
use slicecast_core::thumbs::{self, Sheet, SpriteLayout};
use slicecast_core::{VideoId, keys};
use slicecast_storage::BlobStore;
use std::path::Path;

/// The sheet layout for a source displayed at `display_size`.
pub fn layout(display_size: (u32, u32), s: &SpriteSettings) -> SpriteLayout {
    let (thumb_width, thumb_height) = thumbs::thumb_size(display_size.0, display_size.1, s.width);
    SpriteLayout {
        columns: s.columns.max(1),
        rows: s.rows.max(1),
        thumb_width,
        thumb_height,
        interval_s: s.interval_s,
    }
}

/// Tiles `sheet` in `dir` and stores it; returns its key.
async fn sprite_sheet(
    store: &dyn BlobStore,
    id: &VideoId,
    layout: &SpriteLayout,
    sheet: Sheet,
    dir: &Path,
) -> Result<String, AssembleError> {
    let sub = dir.join(format!("sheet_{}", sheet.index));
    tokio::fs::create_dir_all(&sub).await?;
    for k in 0..sheet.thumbs {
        let data = store
            .get(&keys::work_thumb(id, sheet.first_thumb + k))
            .await?;
        tokio::fs::write(sub.join(format!("{k:06}.jpg")), &data).await?;
    }
    let rows = sheet.thumbs.div_ceil(layout.columns);
    let out = dir.join(format!("sprite_{}.jpg", sheet.index));
    let mut args = ffmpeg_prelude(&["-framerate", "1", "-start_number", "0", "-i"]);
    args.push(sub.join("%06d.jpg").into_os_string());
    args.extend([
        os("-vf"),
        os(format!("tile={}x{rows}", layout.columns)),
        os("-frames:v"),
        os("1"),
        os("-q:v"),
        os("4"),
    ]);
    args.push(out.clone().into_os_string());
    ffmpeg(&args, format!("sprite sheet {}", sheet.index)).await?;
    let key = keys::thumbnail(id, &format!("sprite_{}.jpg", sheet.index));
    store.put_file(&key, &out).await?;
    Ok(key)
}

/// Makes every sheet of `count` thumbnails; returns their keys in order.
pub(crate) async fn sprites(
    store: &dyn BlobStore,
    id: &VideoId,
    layout: &SpriteLayout,
    count: u32,
) -> Result<Vec<String>, AssembleError> {
    let dir = tempfile::tempdir()?;
    let mut out = Vec::new();
    for sheet in thumbs::sheets(layout, count) {
        out.push(sprite_sheet(store, id, layout, sheet, dir.path()).await?);
    }
    Ok(out)
}

/// Full sheets among the first `ready` thumbnails: the sheets that can be
/// published while the rest encodes (a partial sheet would change).
pub fn full_sheets(layout: &SpriteLayout, ready: u32) -> u32 {
    ready / layout.per_sheet()
}

/// Publishes full sheets `from..to` and the thumbnails track over sheets
/// `0..to` while the video encodes; returns the keys of sheets `0..to` and
/// of the track. The final assembly writes the whole track again.
pub async fn publish_full_sheets(
    store: &dyn BlobStore,
    id: &VideoId,
    layout: &SpriteLayout,
    from: u32,
    to: u32,
) -> Result<(Vec<String>, String), AssembleError> {
    let per = layout.per_sheet();
    let dir = tempfile::tempdir()?;
    let mut keys_out = Vec::new();
    for index in 0..to {
        if index < from {
            keys_out.push(keys::thumbnail(id, &format!("sprite_{index}.jpg")));
            continue;
        }
        let sheet = Sheet {
            index,
            first_thumb: index * per,
            thumbs: per,
        };
        keys_out.push(sprite_sheet(store, id, layout, sheet, dir.path()).await?);
    }
    let count = to * per;
    let vtt = keys::thumbnail(id, "thumbnails.vtt");
    let text = thumbs::thumbnails_vtt(layout, count, f64::from(count) * layout.interval_s);
    store.put(&vtt, bytes::Bytes::from(text)).await?;
    Ok((keys_out, vtt))
}
