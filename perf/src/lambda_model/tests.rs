//! The Lambda model's rows: slice sizing, audio chunks, time to first playable, scale-out.

use super::*;

fn measured() -> Measured {
    Measured {
        source_bytes_per_s: 1e6,
        slice_cpu_per_media_s: 1.0,
        slice_wall_s: 4.0,
        slice_media_s: 8.0,
        audio_cpu_per_media_s: 0.02,
        hash_mb_s: 500.0,
        probe_fixed_s: 0.0,
        index_s_per_media_s: 0.001,
        assemble_s_per_media_s: 0.01,
        cores: 2,
    }
}

fn assumptions() -> Assumptions {
    Assumptions {
        duration_s: 600.0,
        min_slice_s: 4.0,
        audio_chunk_s: 0.0,
        first_slice_s: None,
        vcpus: 6,
        memory_mb: 10_240,
        thread_efficiency: 1.0,
        cold_start_s: 1.0,
        invoke_s: 0.0,
        s3_mb_s: 100.0,
        scale_per_10s: 1000,
        gb_second_usd: 1.0,
        hash_read: true,
    }
}

#[test]
fn rows() {
    let m = measured();
    let a = assumptions();
    // (workers, slices, slice seconds)
    for (w, n, len) in [
        (50, 50, 12.0),
        (200, 150, 4.0),
        (1000, 150, 4.0),
        (1, 1, 600.0),
    ] {
        let r = model_row(&m, &a, w);
        assert_eq!((r.slices, r.slice_s), (n, len), "{w} workers");
        assert!(r.total_s > 0.0 && r.usd_per_source_minute > 0.0);
    }
    // 50 workers, 12 s slices: 1 s cold start + 12 MB / 100 MB/s + 12 CPU s / 6.
    let r = model_row(&m, &a, 50);
    assert!(
        (r.slices_s - (1.0 + 0.12 + 12.0 / 6.0)).abs() < 1e-9,
        "{r:?}"
    );
    // Audio: cold start + 600 MB at 100 MB/s + 12 s of CPU.
    assert!((r.audio_s - (1.0 + 6.0 + 12.0)).abs() < 1e-9, "{r:?}");
    // Audio in 60 s chunks: 68 s of source read and encoded per chunk.
    let chunked = Assumptions {
        audio_chunk_s: 60.0,
        ..a.clone()
    };
    let rc = model_row(&m, &chunked, 50);
    assert!(
        (rc.audio_s - (1.0 + 0.68 + 68.0 * 0.02)).abs() < 1e-9,
        "{rc:?}"
    );
    assert!(rc.total_s < r.total_s, "{rc:?}");
    // More workers never make it slower here.
    assert!(model_row(&m, &a, 200).total_s <= r.total_s);
    // The start plays once the first slice and the audio covering it are
    // in: with the whole track in one job, the audio decides (the probe's
    // 6 s, during which the 1.5 s hash ran, + audio 19 s); with 60 s
    // chunks and an 8 s first slice, the slice does (1 s + 0.08 s + 8 CPU s / 6).
    assert!((r.first_playable_s - (6.0 + 19.0)).abs() < 1e-9, "{r:?}");
    // The hash and the probe overlap: the slower of the two counts.
    assert!(
        (r.total_s - (6.0 + r.slices_s.max(r.audio_s) + r.assemble_s)).abs() < 1e-9,
        "{r:?}"
    );
    assert_eq!(r.duration_s, 600.0);
    let early = Assumptions {
        first_slice_s: Some(8.0),
        ..chunked.clone()
    };
    let re = model_row(&m, &early, 50);
    let slice: f64 = 1.0 + 0.08 + 8.0 / 6.0;
    // The head start: the first 45 s read (0.45 s) while they are listed
    // (0.045 s), after the 1.5 s hash; the first jobs then run while the
    // whole file is indexed, and the playlists wait for the whole plan (the
    // probe's 6 s).
    assert!((re.head_s - 0.45).abs() < 1e-9, "{re:?}");
    let jobs_in = 1.5 + 0.45 + slice.max(rc.audio_s);
    assert!(
        (re.first_playable_s - jobs_in.max(6.0)).abs() < 1e-9,
        "{re:?}"
    );
    let fast_probe = Measured {
        source_bytes_per_s: 1e5,
        ..m.clone()
    };
    let rf = model_row(&fast_probe, &early, 50);
    assert!(
        rf.first_playable_s < rf.probe_s + slice.max(rf.audio_s),
        "the head start overlaps the probe: {rf:?}"
    );
    assert_eq!(rc.head_s, 0.0);
    // The id from S3's ETag: one round trip instead of reading the upload.
    let etag = Assumptions {
        hash_read: false,
        invoke_s: 0.05,
        ..early.clone()
    };
    let rt = model_row(&m, &etag, 50);
    assert!((rt.hash_s - 0.05).abs() < 1e-9, "{rt:?}");
    assert!(rt.first_playable_s <= re.first_playable_s + 0.1, "{rt:?}");
    assert!(re.first_playable_s < rc.first_playable_s, "{re:?} {rc:?}");
    assert!(re.first_playable_s < re.total_s, "{re:?}");
    assert_eq!(re.total_s, rc.total_s);
    // Past 1000 environments in flight, another 10 s of scale-out.
    let many = Assumptions {
        min_slice_s: 0.1,
        ..a
    };
    let r = model_row(&m, &many, 2000);
    assert_eq!(r.slices, 2000);
    assert!(r.slices_s > 10.0, "{r:?}");
}
