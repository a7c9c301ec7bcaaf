package dev.cancelflow.mongo;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import org.h2.mvstore.MVStore;

/**
 * Runs mongo-java-server as a standalone MongoDB stand-in for cancelflow's tests and local stack.
 *
 * <pre>
 * java -Xmx512m -jar mongo-launcher.jar [--host 127.0.0.1] [--port 27017] [--backend memory|h2] [--h2-file PATH]
 * </pre>
 *
 * Prints exactly one line to stdout once it accepts connections:
 * {@code mongo-launcher listening on HOST:PORT} (the real port, which matters with --port 0).
 * Everything else (library warnings, errors) goes to stderr. Stops cleanly on SIGTERM/SIGINT.
 */
public final class MongoLauncher {

    static final String USAGE = "usage: java -jar mongo-launcher.jar [--host HOST] [--port PORT]"
        + " [--backend memory|h2] [--h2-file PATH]\n"
        + "  --host     address to listen on (default 127.0.0.1)\n"
        + "  --port     TCP port, 0 picks a free one (default 27017)\n"
        + "  --backend  memory (default, nothing kept) or h2 (kept in --h2-file)\n"
        + "  --h2-file  H2 MVStore file, required with --backend h2";

    /**
     * The version we announce. mongo-java-server's own {@code ServerVersion} enum stops at
     * wire version 8, and the Node driver 7.x (mongoose 9) refuses servers below wire version 9
     * (MongoDB 4.4). The library reads this only to answer isMaster/hello and buildInfo; it does
     * not change what the server actually implements.
     */
    static final MongoVersion MONGO_4_4 = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(4, 4, 0);
        }

        @Override
        public int getWireVersion() {
            return 9;
        }
    };

    /** Parsed command line. */
    record Options(String host, int port, String backend, Path h2File) {}

    /** A bad command line: reported with the usage text and exit code 2. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    public static void main(String[] args) {
        Options options;
        try {
            options = parse(args);
        } catch (UsageException e) {
            System.err.println("mongo-launcher: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        if (options == null) { // --help
            System.out.println(USAGE);
            return;
        }

        MongoServer server;
        try {
            server = start(options);
        } catch (Exception e) {
            System.err.println("mongo-launcher: cannot start on " + options.host() + ":" + options.port()
                + ": " + describe(e));
            System.exit(1);
            return;
        }

        // shutdown() stops listening, lets the Netty event loops close the client connections
        // and then closes the backend; for H2 that commits and closes the MVStore file, so all
        // acknowledged writes survive a clean stop. The JVM runs this on SIGTERM and SIGINT.
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdown, "mongo-launcher-shutdown"));

        InetSocketAddress bound = server.getLocalAddress();
        System.out.println("mongo-launcher listening on " + options.host() + ":" + bound.getPort());
        System.out.flush();
        // main returns here; Netty's non-daemon event-loop threads keep the process serving
        // until a signal runs the shutdown hook.
    }

    /**
     * How long the MVStore keeps a chunk after its last live page moved on, before reusing its space.
     * mongo-java-server reads a collection by iterating an MVMap from the root it started with, while
     * writes go on, and H2 does not count such a reader as using that old version: once a chunk it still
     * needs is older than the retention time (45 s by default) it can be freed, and the read fails with
     * "Chunk N not found" (an open H2 bug, h2database#4383). Seen in `npm run bench` with 100,000 orders
     * on two loaded cores, where a scan outlasted 45 s. Ten minutes covers any read the stack makes; the
     * price is the file keeping ten minutes of superseded chunks before it reuses them.
     */
    static final int CHUNK_RETENTION_MS = 10 * 60 * 1000;

    static MongoServer start(Options options) throws IOException {
        MongoBackend backend;
        if (options.backend().equals("h2")) {
            Path parent = options.h2File().toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            MVStore store = new MVStore.Builder().fileName(options.h2File().toString()).open();
            store.setRetentionTime(CHUNK_RETENTION_MS);
            backend = new H2Backend(store);
        } else {
            backend = new MemoryBackend();
        }
        backend.version(MONGO_4_4);

        // No oplog: cancelflow reads no change streams, and mongo-java-server's oplog is an
        // uncapped collection (local.oplog.rs) that keeps every write for the life of the data:
        // it filled a 1 GB heap during 10,000 property runs and would grow .data without bound.
        MongoServer server = new MongoServer(backend);
        try {
            server.bind(options.host(), options.port());
        } catch (RuntimeException e) {
            backend.close(); // release the H2 file lock before exiting
            throw e;
        }
        return server;
    }

    static Options parse(String[] args) throws UsageException {
        String host = "127.0.0.1";
        String portText = "27017";
        String backend = "memory";
        String h2File = null;

        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("-h") || arg.equals("--help")) {
                return null;
            }
            // Accept both "--name value" and "--name=value".
            String name = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            if (!List.of("--host", "--port", "--backend", "--h2-file").contains(name)) {
                throw new UsageException("unknown argument '" + arg + "'");
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new UsageException(name + " needs a value");
                }
                value = args[++i];
            }
            switch (name) {
                case "--host" -> host = value;
                case "--port" -> portText = value;
                case "--backend" -> backend = value;
                default -> h2File = value;
            }
        }

        if (host.isBlank()) {
            throw new UsageException("--host must not be empty");
        }
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 0 || port > 65535) {
            throw new UsageException("--port must be a number from 0 to 65535, got '" + portText + "'");
        }
        if (!backend.equals("memory") && !backend.equals("h2")) {
            throw new UsageException("--backend must be 'memory' or 'h2', got '" + backend + "'");
        }
        if (backend.equals("h2") && (h2File == null || h2File.isBlank())) {
            throw new UsageException("--backend h2 needs --h2-file PATH");
        }
        if (backend.equals("memory") && h2File != null) {
            throw new UsageException("--h2-file only applies to --backend h2");
        }
        return new Options(host, port, backend, h2File == null ? null : Path.of(h2File));
    }

    /** The innermost cause's message, e.g. "Address already in use" instead of a Netty wrapper. */
    private static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return message == null ? root.getClass().getSimpleName() : message;
    }

    private MongoLauncher() {}
}
