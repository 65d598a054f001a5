"""`python -m index`: a thin command line over the library (build, stats, ask, evaluate, train, bench)."""

import argparse
import json
import sys
from pathlib import Path

from .builder import build
from .embedder import ENCODER_VARIANT, ENCODER_VARIANTS, TUNING_DIR
from .encoder_training import EPOCHS
from .errors import IndexFormatError, QuestionError, StoryFileError
from .process import configure_process
from .reader import WEIGHTS_FILE as READER_WEIGHTS
from .reader_training import EPOCHS as READER_EPOCHS
from .settings import IndexSettings
from .store import read_manifest

EXIT_INVALID_INPUT = 1
EXIT_UNUSABLE_INDEX = 2


def main(argv: list[str] | None = None) -> int:
    configure_process()
    settings = IndexSettings()
    parser = argparse.ArgumentParser(prog="python -m index", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    build_cmd = commands.add_parser("build", help="build or update the index from story files")
    build_cmd.add_argument("paths", nargs="*", type=Path, help=f"story files or folders (default: {settings.stories_dir})")
    build_cmd.add_argument("--out", type=Path, default=settings.index_dir, help=f"index directory (default: {settings.index_dir})")
    build_cmd.add_argument("--skip-invalid", action="store_true", help="index the valid files and list the invalid ones")

    stats_cmd = commands.add_parser("stats", help="what an index holds")
    stats_cmd.add_argument("--index", type=Path, default=settings.index_dir)

    ask_cmd = commands.add_parser(
        "ask", help="answer a question as JSON, the index.Answer contract ('-' reads one question per line from stdin)",
        description="Prints one JSON answer per question. To read answers as text, chat with `python -m bot`.",
    )
    ask_cmd.add_argument("question")
    ask_cmd.add_argument("--index", type=Path, default=settings.index_dir)
    ask_cmd.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # JSON is all it prints; kept for scripts

    eval_cmd = commands.add_parser("evaluate", help="answer quality on the labelled set, in three corpora, split by story")
    eval_cmd.add_argument("--eval", type=Path, default=Path("tests/eval"), help="labelled set (default: tests/eval)")
    eval_cmd.add_argument("--seeds", type=Path, default=Path("seeds"), help="the shipped seeds, the 'seed' corpus (default: seeds)")
    eval_cmd.add_argument("--corpus", default="seed,eval,distractors", help="corpora to score, comma-separated")
    eval_cmd.add_argument("--split", choices=("dev", "test", "both"), default="both")
    eval_cmd.add_argument("--distractors", type=int, default=1000, help="generated stories in the 'distractors' corpus")
    eval_cmd.add_argument("--misses", type=int, default=0, metavar="N", help="also list up to N missed dev questions per corpus")
    eval_cmd.add_argument("--answer-everything", action="store_true", help="never refuse: routing and ranking alone (not saved)")
    eval_cmd.add_argument("--encoder", choices=ENCODER_VARIANTS, default=ENCODER_VARIANT,
                          help=f"the encoder variant to measure (default: {ENCODER_VARIANT}, the shipped one)")
    eval_cmd.add_argument("--judgement", type=Path, help="answer models other than the shipped index/judgement.json (not saved)")
    eval_cmd.add_argument("--write-figures", action="store_true", help="save the counts to <eval>/figures.json (the quality tests read them)")

    train_cmd = commands.add_parser("train", help="fit every learned weight and threshold from training/ (minutes)")
    train_cmd.add_argument("--training", type=Path, default=Path("training"), help="training stories and questions (default: training)")
    train_cmd.add_argument("--eval", type=Path, default=Path("tests/eval"), help="labelled set whose dev stories set the threshold")
    train_cmd.add_argument("--encoder", choices=ENCODER_VARIANTS, default=ENCODER_VARIANT,
                           help=f"the encoder variant to fit for (default: {ENCODER_VARIANT}, the shipped one)")
    train_cmd.add_argument("--out", type=Path, help="where to write (default: index/judgement.json, for the shipped encoder only)")

    encoder_cmd = commands.add_parser("train-encoder",
                                      help="fine-tune the bundled model on training/ into index/tuning/ (minutes); run train after it")
    encoder_cmd.add_argument("--training", type=Path, default=Path("training"), help="training stories and questions (default: training)")
    encoder_cmd.add_argument("--epochs", type=int, default=EPOCHS, help=f"passes over the training triples (default: {EPOCHS})")
    encoder_cmd.add_argument("--out", type=Path, default=TUNING_DIR, help="the adapter's folder (default: index/tuning, the shipped one)")

    reader_cmd = commands.add_parser("train-reader",
                                     help="fine-tune the reader on training/ into index/reader.safetensors (34 min); run train after it")
    reader_cmd.add_argument("--training", type=Path, default=Path("training"), help="training stories and questions (default: training)")
    reader_cmd.add_argument("--eval", type=Path, default=Path("tests/eval"), help="labelled set whose dev stories it is measured on")
    reader_cmd.add_argument("--out", type=Path, default=READER_WEIGHTS, help="the weights (default: index/reader.safetensors, the shipped ones)")
    reader_cmd.add_argument("--epochs", type=int, default=READER_EPOCHS, help=f"passes over the training groups (default: {READER_EPOCHS})")

    bench_cmd = commands.add_parser("bench", help="measure build rate, latency, start-up and memory (minutes)")
    bench_cmd.add_argument("--sizes", default="10000,100000", help="claims per corpus, comma-separated (1000000 builds for long)")
    bench_cmd.add_argument("--workdir", type=Path, help="where corpora and indexes are written (default: a temp dir)")
    bench_cmd.add_argument("--stages", action="store_true", help="instead: what each answering stage costs per question (tests/eval)")

    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args, settings)
    except IndexFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE_INDEX


def run_build(args, settings: IndexSettings) -> int:
    paths = args.paths or [settings.stories_dir]
    try:
        report = build(
            paths, args.out, model=settings.model, encoder_dir=settings.encoder_dir,
            skip_invalid=args.skip_invalid, progress=sys.stderr.isatty(),
        )
    except StoryFileError as exc:
        for problem in exc.problems:
            print(f"{problem}", file=sys.stderr)
        files = sorted({p.path for p in exc.problems})
        print(f"error: {len(files)} invalid file(s); nothing was changed at {args.out} "
              f"(use --skip-invalid to index the valid ones)", file=sys.stderr)
        return EXIT_INVALID_INPUT
    for problem in report.problems:
        print(f"{problem.path}:{problem.line}: {'skipped' if problem.fatal else 'warning'}: {problem.message}", file=sys.stderr)
    print(report.summary())
    return 0


def run_stats(args, settings: IndexSettings) -> int:
    manifest = read_manifest(args.index)
    counts = manifest["counts"]
    print(f"index:       {args.index}")
    print(f"model:       {manifest['model']} ({manifest['dimension']} dimensions)")
    print(f"format:      {manifest['format_version']}, built {manifest['created']}")
    print(f"stories:     {counts['stories']}")
    print(f"facts:       {counts['facts']}")
    print(f"narratives:  {counts['narratives']}")
    return 0


def run_ask(args, settings: IndexSettings) -> int:
    from .retrieval import load

    kb = load(args.index, model=settings.model, encoder_dir=settings.encoder_dir)
    questions = (line for line in sys.stdin) if args.question == "-" else [args.question]
    status = 0
    for question in questions:
        if args.question == "-" and not question.strip():
            continue
        try:
            answer = kb.ask(question)
        except QuestionError as exc:
            # A line in place of the answer keeps a script's answers in step with its questions.
            print(json.dumps({"question": question.strip()[:80], "error": str(exc)}), flush=True)
            print(f"error: {exc}", file=sys.stderr)
            status = EXIT_INVALID_INPUT
            continue
        print(answer.model_dump_json(), flush=True)
    return status


def run_evaluate(args, settings: IndexSettings) -> int:
    from .evaluation import CORPORA, FIGURES_FILE, describe_miss, evaluate, tables, write_figures
    from .judgement import Judgement

    corpora = [name.strip() for name in args.corpus.split(",") if name.strip()]
    if unknown := set(corpora) - set(CORPORA):
        print(f"error: unknown corpus {', '.join(sorted(unknown))}; choose from {', '.join(CORPORA)}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    if args.write_figures and args.encoder != ENCODER_VARIANT:
        print(f"error: figures are the shipped encoder's ({ENCODER_VARIANT}); --encoder {args.encoder} is never saved", file=sys.stderr)
        return EXIT_INVALID_INPUT
    if (args.answer_everything or args.judgement) and args.write_figures:
        print("error: --answer-everything and --judgement figures are not the product's; they are never saved", file=sys.stderr)
        return EXIT_INVALID_INPUT
    results = evaluate(args.eval, args.seeds, corpora, distractors=args.distractors, model=settings.model, encoder_dir=settings.encoder_dir,
                       answer_everything=args.answer_everything, encoder=args.encoder,
                       judgement=Judgement.load(args.judgement) if args.judgement else None)
    print(f"corpora: seed = {args.seeds}; eval = {args.eval / 'stories'}; distractors = eval + {args.distractors} generated stories")
    print(tables(results, ("dev", "test") if args.split == "both" else (args.split,)))
    for corpus, outcomes in results.items():
        # Misses are listed for dev questions only: the test stories are for reporting, never for looking at.
        misses = [line for o in outcomes if o.split == "dev" and (line := describe_miss(o))][: args.misses]
        if misses:
            print(f"\n{corpus}: dev misses\n" + "\n".join(misses))
    if args.write_figures:
        write_figures(results, args.eval / FIGURES_FILE)
        print(f"wrote {args.eval / FIGURES_FILE}")
    return 0


def run_train(args, settings: IndexSettings) -> int:
    import tempfile

    from .embedder import embedder_for
    from .judgement import WEIGHTS_FILE
    from .training import train

    out = args.out or WEIGHTS_FILE
    if args.encoder != ENCODER_VARIANT and out.resolve() == WEIGHTS_FILE.resolve():
        print(f"error: index/judgement.json is the shipped encoder's ({ENCODER_VARIANT}); give --out for --encoder {args.encoder}", file=sys.stderr)
        return EXIT_INVALID_INPUT
    with tempfile.TemporaryDirectory() as scratch:
        train(args.training, args.eval, Path("seeds"), embedder_for(settings.model, Path(scratch), settings.encoder_dir, args.encoder), out=out)
    return 0


def run_train_encoder(args, settings: IndexSettings) -> int:
    from .encoder_training import train_encoder

    train_encoder(args.training, args.out, epochs=args.epochs)
    return 0


def run_train_reader(args, settings: IndexSettings) -> int:
    import tempfile

    from .embedder import embedder_for
    from .reader_training import dev_report, train_reader

    with tempfile.TemporaryDirectory() as scratch:
        train_reader(args.training, embedder_for(settings.model, Path(scratch), settings.encoder_dir), args.out, epochs=args.epochs)
    print(dev_report(args.eval, Path("seeds"), args.out))
    return 0


def run_bench(args, settings: IndexSettings) -> int:
    from .bench import bench, load_average, machine, stage_costs, table, targets

    print(f"machine: {machine()}; load average (1/5/15 min) before: {load_average()}", flush=True)
    if args.stages:
        print(stage_costs(Path("tests/eval"), Path("seeds"), settings.model, settings.encoder_dir))
    else:
        rows = bench(tuple(int(size) for size in args.sizes.split(",")), args.workdir,
                     log=lambda line: print(line, file=sys.stderr, flush=True))
        print(table(rows))
        print(targets(rows))
    print(f"load average after: {load_average()}")
    return 0


COMMANDS = {"build": run_build, "stats": run_stats, "ask": run_ask, "evaluate": run_evaluate, "train": run_train,
            "train-encoder": run_train_encoder, "train-reader": run_train_reader, "bench": run_bench}

if __name__ == "__main__":
    sys.exit(main())
