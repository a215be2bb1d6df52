//! pocketsphinx through ffmpeg's `asr` filter: no Python, less accurate.

#[allow(clippy::wildcard_imports)]
use crate::*;

/// ffmpeg's `asr` filter reports an utterance on the first frame after its
/// voice-activity detector has heard 0.5 s of silence: the speech ended this
/// long before that frame's time (measured on synthetic speech with 10 ms
/// frames: 0.52 s both times).
pub(crate) const ASR_REPORT_DELAY_S: f64 = 0.52;
/// The silence the detector waits for before ending an utterance; the next
/// utterance's speech starts after it.
pub(crate) const ASR_HANGOVER_S: f64 = 0.5;
/// The filter does not say when an utterance began: it is assumed to last
/// this long per word (read speech runs at 0.3–0.5 s a word).
pub(crate) const SECONDS_PER_WORD: f64 = 0.45;

/// ffmpeg's filter chain: 16 kHz mono, 1.5 s of silence so the last
/// utterance is reported, 10 ms frames for fine report times, pocketsphinx,
/// and each utterance's text printed to stdout.
pub(crate) fn asr_filter() -> String {
    let m = POCKETSPHINX_MODEL_DIR;
    format!(
        "aformat=sample_fmts=s16:sample_rates=16000:channel_layouts=mono,\
         apad=pad_dur=1.5,asetnsamples=n=160,\
         asr=hmm={m}/en-us:dict={m}/cmudict-en-us.dict:lm={m}/en-us.lm.bin,\
         ametadata=mode=print:key=lavfi.asr.text:file=-"
    )
}

/// ffmpeg's arguments to run pocketsphinx on the first audio stream of `audio`.
/// The utterances go to stdout (kept whole), not the log (only its tail is kept).
pub(crate) fn pocketsphinx_args(audio: &Path) -> Vec<OsString> {
    let mut args = slicecast_media::args::ffmpeg_prelude();
    args.push("-i".into());
    args.push(audio.as_os_str().to_owned());
    args.extend(os(&[
        "-map",
        "0:a:0",
        "-af",
        &asr_filter(),
        "-f",
        "null",
        "-",
    ]));
    args
}

/// Parses the `ametadata` print lines: `frame:N pts:P pts_time:T` then
/// `lavfi.asr.text=…`; returns each utterance's report time and text.
pub(crate) fn parse_asr_print(text: &str) -> Vec<(f64, String)> {
    let mut time = None;
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(t) = line
            .split_whitespace()
            .find_map(|f| f.strip_prefix("pts_time:"))
        {
            time = t.parse::<f64>().ok().filter(|t| t.is_finite());
        } else if let Some(words) = line.strip_prefix("lavfi.asr.text=")
            && let Some(t) = time.take()
        {
            out.push((t, words.trim().to_owned()));
        }
    }
    out
}

/// The words of a pocketsphinx hypothesis, without fillers (`<sil>`,
/// `[NOISE]`, `++UH++`) and alternative-pronunciation marks (`word(2)`).
pub(crate) fn sphinx_tokens(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .filter(|t| !t.starts_with(['<', '[', '+']))
        .map(|t| match t.find('(') {
            Some(i) if t.ends_with(')') => &t[..i],
            _ => t,
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// Timed words from the reported utterances of audio `duration_s` long.
/// Each utterance ends [`ASR_REPORT_DELAY_S`] before its report and starts
/// [`SECONDS_PER_WORD`] per word earlier (never before the previous one's
/// silence); its words share that span in proportion to their length.
pub(crate) fn words_from_utterances(utterances: &[(f64, String)], duration_s: f64) -> Vec<Word> {
    let mut words = Vec::new();
    let mut floor: f64 = 0.0;
    for (reported, text) in utterances {
        let tokens = sphinx_tokens(text);
        let end = (reported - ASR_REPORT_DELAY_S).min(duration_s).max(floor);
        if !tokens.is_empty() {
            let start = (end - SECONDS_PER_WORD * tokens.len() as f64).max(floor);
            let weight = |t: &str| t.chars().count() as f64 + 1.0;
            let total: f64 = tokens.iter().map(|t| weight(t)).sum();
            let mut at = start;
            for t in tokens {
                let next = at + (end - start) * weight(t) / total;
                words.push(Word {
                    text: t.to_owned(),
                    start_s: at,
                    end_s: next.min(end),
                });
                at = next;
            }
        }
        floor = (reported - ASR_REPORT_DELAY_S + ASR_HANGOVER_S)
            .min(duration_s)
            .max(end);
    }
    words
}

/// Why pocketsphinx cannot run here, if it cannot; checked once per process.
pub(crate) static POCKETSPHINX_BLOCKER: OnceLock<Option<String>> = OnceLock::new();

/// A missing model file, if any.
pub(crate) fn pocketsphinx_model_missing() -> Option<String> {
    let model = Path::new(POCKETSPHINX_MODEL_DIR);
    let files = ["en-us/mdef", "cmudict-en-us.dict", "en-us.lm.bin"];
    let missing = files.iter().find(|f| !model.join(f).exists())?;
    Some(format!(
        "the pocketsphinx model file {}/{missing} is missing \
         (on Debian: apt-get install -y pocketsphinx-en-us)",
        model.display()
    ))
}

/// Why `ffmpeg -filters` shows that the `asr` filter cannot be used, if so.
pub(crate) fn asr_filter_missing(
    ffmpeg: &str,
    listing: Result<process::Output, ProcessError>,
) -> Option<String> {
    match listing {
        Ok(out) => {
            let listed = String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some("asr"));
            (!listed).then(|| {
                format!("`{ffmpeg}` was built without the asr filter (Debian's ffmpeg has it)")
            })
        }
        Err(e) => Some(format!("`{ffmpeg}` did not list its filters: {e}")),
    }
}

pub(crate) fn filters_args() -> Vec<OsString> {
    os(&["-hide_banner", "-filters"])
}

/// [`POCKETSPHINX_BLOCKER`] from async code.
pub(crate) async fn pocketsphinx_blocker() -> Option<String> {
    if let Some(answer) = POCKETSPHINX_BLOCKER.get() {
        return answer.clone();
    }
    let answer = match pocketsphinx_model_missing() {
        Some(missing) => Some(missing),
        None => {
            let ffmpeg = slicecast_media::ffmpeg_bin();
            let listing = process::run(&ffmpeg, &filters_args(), Duration::from_secs(30)).await;
            asr_filter_missing(&ffmpeg, listing)
        }
    };
    POCKETSPHINX_BLOCKER.get_or_init(|| answer).clone()
}

/// Whether ffmpeg has the `asr` filter and Debian's `pocketsphinx-en-us`
/// model is in [`POCKETSPHINX_MODEL_DIR`]. Runs ffmpeg once per process
/// (blocking briefly) and remembers the answer.
pub fn pocketsphinx_available() -> bool {
    POCKETSPHINX_BLOCKER
        .get_or_init(|| {
            pocketsphinx_model_missing().or_else(|| {
                let ffmpeg = slicecast_media::ffmpeg_bin();
                let listing = run_blocking(ffmpeg.clone(), filters_args(), Duration::from_secs(30));
                asr_filter_missing(&ffmpeg, listing)
            })
        })
        .is_none()
}

/// Timed words from ffmpeg's `asr` filter (pocketsphinx, US English) on the
/// first audio stream of `audio`. The filter gives each utterance's text at
/// the moment it ended, not word times: each utterance is assumed to last
/// 0.45 s a word and its words share that span, so cue times are approximate.
pub async fn pocketsphinx_words(audio: &Path, timeout: Duration) -> Result<Vec<Word>, SpeechError> {
    if let Some(reason) = pocketsphinx_blocker().await {
        return Err(SpeechError::PocketsphinxUnavailable { reason });
    }
    if !audio.is_file() {
        return Err(SpeechError::InputMissing {
            location: audio.display().to_string(),
        });
    }
    let started = Instant::now();
    let duration_s = audio_duration_s(
        &audio.to_string_lossy(),
        timeout.min(Duration::from_secs(60)),
    )
    .await?;
    let out = process::run(
        &slicecast_media::ffmpeg_bin(),
        &pocketsphinx_args(audio),
        timeout,
    )
    .await
    .map_err(|source| SpeechError::Engine {
        what: "pocketsphinx (ffmpeg asr) could not transcribe the audio".into(),
        source,
    })?;
    let utterances = parse_asr_print(&String::from_utf8_lossy(&out.stdout));
    let words = words_from_utterances(&utterances, duration_s);
    debug!(
        duration_ms = started.elapsed().as_millis() as u64,
        utterances = utterances.len(),
        words = words.len(),
        "pocketsphinx transcribed"
    );
    Ok(words)
}
