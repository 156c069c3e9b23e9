// Bouncy Castle (1.72, Debian libbcpkix-java) baseline of `make bench` (bench/run.sh):
// the same work as kura's seal, export and verify rows, done with org.bouncycastle.tsp.ers.
//
//   java BcErsBench N TSA-URL TRUST.pem
//
// N documents "kura bench document i\n" (the bytes kura_bench fill stores):
//   seal    ERSArchiveTimeStampGenerator over all N, ONE RFC 3161 request POSTed to TSA-URL,
//           an ArchiveTimeStamp (reduced tree) per document
//   export  ERSEvidenceRecordGenerator.generate + getEncoded for each of them
//   verify  each record on its own: parse (ERSEvidenceRecord checks its chains), validatePresent
//           with the document's bytes, the signer certificate issued by a TRUST root and valid
//           now, and the token's signature (record.validate)
// Prints one line per step: "STEP seconds count". Built with:
//   javac -cp bcprov.jar:bcpkix.jar:bcutil.jar BcErsBench.java

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.tsp.PartialHashtree;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.ers.ERSArchiveTimeStamp;
import org.bouncycastle.tsp.ers.ERSArchiveTimeStampGenerator;
import org.bouncycastle.tsp.ers.ERSByteData;
import org.bouncycastle.tsp.ers.ERSData;
import org.bouncycastle.tsp.ers.ERSEvidenceRecord;
import org.bouncycastle.tsp.ers.ERSEvidenceRecordGenerator;
import org.bouncycastle.util.encoders.Hex;

public class BcErsBench
{
    private static final String BC = BouncyCastleProvider.PROVIDER_NAME;

    public static void main(String[] args)
        throws Exception
    {
        Security.addProvider(new BouncyCastleProvider());
        int n = Integer.parseInt(args[0]);
        String url = args[1];
        List<X509CertificateHolder> trust = new ArrayList<>();
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        try (InputStream in = new ByteArrayInputStream(Files.readAllBytes(Paths.get(args[2]))))
        {
            for (Certificate c : cf.generateCertificates(in))
            {
                trust.add(new JcaX509CertificateHolder((X509Certificate)c));
            }
        }
        DigestCalculatorProvider dcp = new JcaDigestCalculatorProviderBuilder().setProvider(BC).build();
        List<byte[]> docs = new ArrayList<>();
        for (int i = 0; i < n; i++)
        {
            docs.add(("kura bench document " + i + "\n").getBytes(StandardCharsets.US_ASCII));
        }

        long t0 = System.nanoTime();
        ERSArchiveTimeStampGenerator gen = new ERSArchiveTimeStampGenerator(
            dcp.get(new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256)));
        for (byte[] d : docs)
        {
            gen.addData(new ERSByteData(d));
        }
        TimeStampRequestGenerator reqGen = new TimeStampRequestGenerator();
        reqGen.setCertReq(true);
        TimeStampRequest req = gen.generateTimeStampRequest(reqGen, new BigInteger(63, new SecureRandom()));
        List<ERSArchiveTimeStamp> atss = gen.generateArchiveTimeStamps(post(url, req));
        long t1 = System.nanoTime();
        System.out.printf("seal %.6f %d%n", (t1 - t0) / 1e9, atss.size());

        ERSEvidenceRecordGenerator erGen = new ERSEvidenceRecordGenerator(dcp);
        List<byte[]> records = new ArrayList<>();
        for (ERSArchiveTimeStamp a : atss)
        {
            records.add(erGen.generate(a).getEncoded());
        }
        long t2 = System.nanoTime();
        System.out.printf("export %.6f %d%n", (t2 - t1) / 1e9, records.size());

        // which document each record is for (not timed): its hash is in the first list
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        Map<String, byte[]> byHash = new HashMap<>();
        for (byte[] d : docs)
        {
            byHash.put(Hex.toHexString(sha.digest(d)), d);
        }
        List<byte[]> data = new ArrayList<>();
        for (ERSArchiveTimeStamp a : atss)
        {
            byte[] found = null;
            PartialHashtree first = a.toASN1Structure().getReducedHashTree()[0];
            for (byte[] v : first.getValues())
            {
                found = found != null ? found : byHash.get(Hex.toHexString(v));
            }
            data.add(found);
        }

        Date now = new Date();
        long t3 = System.nanoTime();
        int valid = 0;
        for (int i = 0; i < records.size(); i++)
        {
            ERSEvidenceRecord er = new ERSEvidenceRecord(records.get(i), dcp);
            er.validatePresent(new ERSByteData(data.get(i)), now);
            X509CertificateHolder signer = er.getSigningCertificate();
            if (!signer.isValidOn(now) || !issuedByTrusted(signer, trust, now))
            {
                throw new IllegalStateException("no trusted path for record " + i);
            }
            er.validate(new JcaSimpleSignerInfoVerifierBuilder().setProvider(BC).build(signer));
            valid++;
        }
        long t4 = System.nanoTime();
        System.out.printf("verify %.6f %d%n", (t4 - t3) / 1e9, valid);
    }

    private static boolean issuedByTrusted(X509CertificateHolder cert, List<X509CertificateHolder> trust, Date at)
        throws Exception
    {
        for (X509CertificateHolder t : trust)
        {
            if (t.getSubject().equals(cert.getIssuer()) && t.isValidOn(at)
                && cert.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(BC).build(t)))
            {
                return true;
            }
        }
        return false;
    }

    private static TimeStampResponse post(String url, TimeStampRequest req)
        throws Exception
    {
        HttpURLConnection c = (HttpURLConnection)new URL(url).openConnection();
        c.setDoOutput(true);
        c.setRequestMethod("POST");
        c.setRequestProperty("Content-Type", "application/timestamp-query");
        try (OutputStream out = c.getOutputStream())
        {
            out.write(req.getEncoded());
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        try (InputStream in = c.getInputStream())
        {
            in.transferTo(body);
        }
        TimeStampResponse resp = new TimeStampResponse(body.toByteArray());
        resp.validate(req);
        return resp;
    }
}
