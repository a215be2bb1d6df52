//! The poster is chosen by content: a clip that fades in from black gets a
//! poster from after the fade, not its dark opening.

use slicecast_coordinator::Settings;
use slicecast_core::keys;
use slicecast_tests::local::{generate, luma_variance, test_pattern, transcode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fade_in_gets_a_poster_from_after_the_fade() {
    let dir = tempfile::tempdir().expect("tmp");
    let src = test_pattern(
        dir.path(),
        "fade in.mp4",
        "640x360",
        16,
        Some("fade=in:st=0:d=7"),
        false,
    );
    let frame = |at: &str, name: &str| {
        let out = generate(
            dir.path(),
            name,
            &["-ss", at, "-i", &src.to_string_lossy(), "-frames:v", "1"],
        );
        luma_variance(&out).expect("variance")
    };
    let (first, full) = (frame("0", "first.png"), frame("12", "full.png"));
    assert!(first < 0.05 * full, "the clip fades in: {first} vs {full}");

    let out = dir.path().join("out");
    let settings = Settings {
        workers: 2,
        preset: "ultrafast".into(),
        ..Settings::default()
    };
    let done = transcode(&src, &out, &settings).await.expect("transcode");
    let m = done.manifest();
    let poster = m.assets.poster.as_deref().expect("a poster");
    assert_eq!(poster, keys::thumbnail(&m.video_id, "poster.jpg"));
    let chosen = luma_variance(&out.join(poster)).expect("poster variance");
    assert!(
        chosen > 0.6 * full,
        "the poster is a faded frame: luma variance {chosen:.0}, first frame {first:.0}, full picture {full:.0}"
    );
}
