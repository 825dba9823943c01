using AdaMerging.Worker;
using AdaMerging.Worker.Cli;

// No verb: run the Hangfire server. A verb: a one-off command (see `help`).
return args.Length == 0 || args[0] == "serve"
    ? await WorkerHost.RunAsync(args.Skip(1).ToArray())
    : await Commands.RunAsync(args);
